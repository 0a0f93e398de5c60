import assert from 'node:assert/strict';
import { shardlab, type CliResult } from './helpers.js';

/** Bad input: exit code 2, one line on stderr naming the problem, no stack trace, nothing on stdout. */
export function checkRefused(args: string[], pattern: RegExp, { status, stdout, stderr }: CliResult): void {
  const what = `shardlab ${args.join(' ')}`;
  assert.equal(status, 2, `${what}: exit ${status}: ${stderr}`);
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `${what}: ${stderr}`);
  assert.match(lines[0], pattern, what);
  assert.doesNotMatch(stderr, /\n\s+at /, what);
  assert.equal(stdout, '', what);
}

/** checkRefused on a spawned `shardlab` (the path through bin/shardlab.js). */
export function assertRefused(args: string[], pattern: RegExp): void {
  checkRefused(args, pattern, shardlab(...args));
}
