/** This software's version, from package.json: what a node daemon tells the API, and the API shows of it. */
import manifest from '../package.json' with { type: 'json' };

export const CONDUCTOR_VERSION: string = manifest.version;
