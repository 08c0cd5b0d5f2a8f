/** `--json`'s output: the API's objects as they came, indented. Apart from output.ts so that submit loads no tables. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
