/**
 * The `conductor` command: Slurm's everyday commands over the API, through the SDK (sdk/). One module per command
 * under cli/commands/; what they share (which API, output, errors and exit codes) in cli/. Run by cli/conductor.mjs.
 *
 * Start-up is most of what a short command costs (bench/cli-startup.ts), so this module loads nothing itself: `submit`
 * (the command scripts call in loops) goes straight to its own module, which loads the directive reader (zod) only
 * for job flags and the progress display only for --wait; every other command goes through commander's table
 * (program.ts).
 */
import { setFlagsFromString } from 'node:v8';

// fetch parses HTTP with llhttp compiled to WebAssembly; V8 then optimises that module on a background thread, and a
// process does not exit before its background compiles end: about 100 ms after the last answer, every run. A command
// that makes a few requests needs no optimised parser: V8's baseline compiler alone (Liftoff) ends that wait.
setFlagsFromString('--liftoff-only');

// A reader that stops early (`conductor queue | head`) closes the pipe: that ends the command quietly, as it ends cat.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

const [command] = process.argv.slice(2);
if (command === 'submit') {
  const [{ runAction }, { submit }] = await Promise.all([
    import('./command-context.js'),
    import('./commands/submit.js'),
  ]);
  // sbatch's options are read by their own getopt (submit-argv.ts) from the words as typed.
  await runAction(() => submit(process.argv.slice(3)));
} else {
  await (await import('./program.js')).runProgram();
}
