/**
 * `npm run bench:directives`: what reading a script's #SBATCH lines adds to a /v1 submit, next to the reference the
 * submit pays anyway in the same process: validating the body (SubmitRequest). Both on the same body, a script of
 * 7 directive lines (12 options), 20 comments and 200 commands, and a script without directives.
 *
 * Env: BENCH_ROUNDS (20000). Prints `name value unit` lines: µs per submit for each, and the ratio of directive
 * reading to body validation.
 */
import { performance } from 'node:perf_hooks';
import { readDirectives } from '../shared/job/directive-options.js';
import { SubmitRequest } from '../shared/job/submit-request.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20_000);

const withDirectives = [
  '#!/bin/bash',
  '#SBATCH --job-name=relax',
  '#SBATCH -n 2 -c2',
  '#SBATCH --time=1-00:00:00 --mem=2G',
  '#SBATCH -o out-%j.log -e err-%j.log',
  '#SBATCH --mail-user=a@example.com --mail-type=END',
  '#SBATCH --signal=B:USR1@60 --open-mode=append',
  '#SBATCH --requeue',
  ...Array<string>(20).fill('# a comment'),
  'srun ./relax',
  ...Array<string>(200).fill('echo line'),
].join('\n');
const withoutDirectives = withDirectives.replace(/^#SBATCH.*\n/gm, '');

/** Mean µs of `work` over ROUNDS, after as many rounds of warm-up. */
function timed(work: () => unknown): number {
  for (let i = 0; i < ROUNDS; i++) work();
  const start = performance.now();
  for (let i = 0; i < ROUNDS; i++) work();
  return ((performance.now() - start) * 1000) / ROUNDS;
}

for (const [name, script] of [
  ['directives', withDirectives],
  ['no_directives', withoutDirectives],
] as const) {
  const body = SubmitRequest.parse({ job: {}, script });
  const reading = timed(() => readDirectives(body));
  const validating = timed(() => SubmitRequest.parse({ job: {}, script }));
  console.log(`read_${name} ${reading.toFixed(1)} µs`);
  console.log(`validate_${name} ${validating.toFixed(1)} µs`);
  console.log(`ratio_read_to_validate_${name} ${(reading / validating).toFixed(2)} x`);
}
