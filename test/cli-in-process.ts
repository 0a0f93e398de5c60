/**
 * `shardlab` run in the test's own process: main() as bin/shardlab.js calls it, with what it prints
 * captured. A spawned CLI loads the engine again (about a CPU-second before it does anything, several
 * for commands that tokenize the corpus), so files that check many invocations' output run them here
 * and keep a spawned run (helpers.ts's shardlab) for the process path itself.
 */
import assert from 'node:assert/strict';
import { runMain } from './cli-capture.js';
import { shardlab, succeededJson, TEST_HOME, type CliResult } from './helpers.js';
import { checkRefused } from './refused.js';

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
  const home = process.env.SHARDLAB_HOME;
  process.env.SHARDLAB_HOME = TEST_HOME;
  try {
    return await runMain(args, true);
  } finally {
    if (home === undefined) delete process.env.SHARDLAB_HOME;
    else process.env.SHARDLAB_HOME = home;
    running = false;
  }
}

/** Runs a command that must succeed (exit 0) and print one JSON value; returns the value. */
export async function shardlabHereJson<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  return succeededJson<T>(args, await shardlabHere(...args));
}

/** refused.ts's checks, in process: exit code 2, one line on stderr, no stack trace, nothing on stdout. */
export async function assertRefusedHere(args: string[], pattern: RegExp): Promise<void> {
  checkRefused(args, pattern, await shardlabHere(...args));
}
