#!/usr/bin/env node
// The package's `bin`: plain Node cannot run TypeScript, so this registers tsx (a dependency) and hands over to the
// command itself. tsx's loader compiles each module on its first load and keeps the result in its cache.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
