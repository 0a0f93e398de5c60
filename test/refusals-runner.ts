/**
 * Runs the CLI's main once per argument list, one after another in this one process, and prints what each
 * gave (exit code, stdout, stderr) as JSON: refusals.ts checks many commands for the start-up cost of one
 * process. Under `node --test dist/test/` (which runs every file here) it is given no cases and does nothing.
 */
import { main } from '../engine/cli/main.js';

type Write = typeof process.stdout.write;

const at = process.argv.indexOf('--cases');
if (at >= 0) {
  const cases = JSON.parse(process.argv[at + 1]) as string[][];
  const results: { status: number; stdout: string; stderr: string }[] = [];
  const out = process.stdout.write;
  const err = process.stderr.write;
  const capture = (into: { text: string }): Write =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      into.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as Write;
  for (const args of cases) {
    const stdout = { text: '' };
    const stderr = { text: '' };
    process.stdout.write = capture(stdout);
    process.stderr.write = capture(stderr);
    let status: number;
    try {
      status = await main(args);
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    results.push({ status, stdout: stdout.text, stderr: stderr.text });
  }
  process.stdout.write(JSON.stringify(results));
  // As each CLI process would be, however long a refused command's handles would keep this one open.
  process.exit(0);
}
