/**
 * The CLI's main() run in this process, as bin/shardlab.js calls it, with what it writes to stdout and
 * stderr captured as text: cli-in-process.ts (in a test's own process) and refusals-runner.ts (many
 * commands in one spawned process) both run commands through it.
 */
import { main } from '../engine/cli/main.js';
import type { CliResult } from './helpers.js';

type Write = typeof process.stdout.write;

/**
 * Runs one command. `passBinary` lets non-text writes through to the real stdout: under `node --test` the
 * runner's own events go there as binary chunks (the v8 serializer), while what the CLI prints is text.
 */
export async function runMain(args: string[], passBinary = false): Promise<CliResult & { status: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  const capture = (into: string[], through?: Write): Write =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (typeof chunk !== 'string' && through) return through.call(process.stdout, chunk, ...(rest as [])) as boolean;
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as Write;
  process.stdout.write = capture(out, passBinary ? stdout : undefined);
  process.stderr.write = capture(err);
  try {
    const status = await main(args);
    return { status, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}
