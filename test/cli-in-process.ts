/**
 * `shardlab` run in the test's own process: main() as bin/shardlab.js calls it, with what it prints
 * captured. A spawned CLI loads the engine again (about a CPU-second before it does anything, several
 * for commands that tokenize the corpus), so files that check many invocations' output run them here
 * and keep a spawned run (helpers.ts's shardlab) for the process path itself.
 */
import assert from 'node:assert/strict';
import { main } from '../engine/cli/main.js';
import { shardlab, TEST_HOME, type CliResult } from './helpers.js';

/**
 * Under `node --test` (Node 20) the file's test events go to stdout as binary chunks (the v8 serializer);
 * what the CLI prints is text. Elsewhere (a file run without --test) the reporter prints text too, and
 * the CLI is spawned instead.
 */
const SERIALIZED = process.env.NODE_TEST_CONTEXT === 'child-v8';

let running = false;

export async function shardlabHere(...args: string[]): Promise<CliResult> {
  if (!SERIALIZED) return shardlab(...args);
  assert.ok(!running, 'one in-process shardlab at a time');
  running = true;
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  const home = process.env.SHARDLAB_HOME;
  const capture =
    (into: string[], through?: typeof process.stdout.write) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      if (typeof chunk !== 'string' && through) return through.call(process.stdout, chunk, ...(rest as [])) as boolean;
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    };
  process.stdout.write = capture(out, stdout) as typeof process.stdout.write;
  process.stderr.write = capture(err) as typeof process.stderr.write;
  process.env.SHARDLAB_HOME = TEST_HOME;
  try {
    const status = await main(args);
    return { status, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
    if (home === undefined) delete process.env.SHARDLAB_HOME;
    else process.env.SHARDLAB_HOME = home;
    running = false;
  }
}

/** Runs a command that must succeed (exit 0) and print one JSON value; returns the value. */
export async function shardlabHereJson<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  const r = await shardlabHere(...args);
  assert.equal(r.status, 0, `shardlab ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** refused.ts's assertRefused, in process: exit code 2, one line on stderr, no stack trace, nothing on stdout. */
export async function assertRefusedHere(args: string[], pattern: RegExp): Promise<void> {
  const r = await shardlabHere(...args);
  assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(r.stdout, '');
}
