/** What the API says of itself: in its OpenAPI document, and at GET / as the original did. */
export const OPENAPI_INFO = {
  title: 'SCNS-Conductor API',
  version: '1.0.0',
  description:
    'A batch job scheduler. Submit bash scripts with resource requests; node daemons run them. The /v1 paths are the REST surface; /, /jobs/*, /dashboard and /health are the original SCNS-Conductor paths, answered with its shapes.',
};
