/**
 * Runs the CLI's main once per argument list, one after another in this one process, and prints what each
 * gave (exit code, stdout, stderr) as JSON: refusals.ts checks many commands for the start-up cost of one
 * process. Under `node --test dist/test/` (which runs every file here) it is given no cases and does nothing.
 */
import { runMain } from './cli-capture.js';

const at = process.argv.indexOf('--cases');
if (at >= 0) {
  const cases = JSON.parse(process.argv[at + 1]) as string[][];
  const results = [];
  for (const args of cases) results.push(await runMain(args));
  process.stdout.write(JSON.stringify(results));
  // As each CLI process would be, however long a refused command's handles would keep this one open.
  process.exit(0);
}
