import assert from 'node:assert/strict';
import { shardlab } from './helpers.js';

/** Bad input: exit code 2, one line on stderr naming the problem, no stack trace, nothing on stdout. */
export function assertRefused(args: string[], pattern: RegExp): void {
  const r = shardlab(...args);
  assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(r.stdout, '');
}
