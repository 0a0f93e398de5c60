import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, succeededJson, TEST_HOME, type CliResult } from './helpers.js';
import { checkRefused } from './refused.js';

/**
 * Bad input, as assertRefused (refused.ts) checks it: exit code 2, one line on stderr naming the problem,
 * no stack trace, nothing on stdout; for several commands, run by the CLI's main one after another in one
 * process (refusals-runner.ts) instead of a process each. A file using it keeps at least one refusal
 * through assertRefused, so the path through bin/shardlab.js stays checked.
 */

/** Several commands run by the CLI's main one after another in one process: each one's exit code, stdout and stderr. */
export function shardlabInOneProcess(cases: string[][], env: NodeJS.ProcessEnv = {}, cwd?: string): CliResult[] {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/test/refusals-runner.js'), '--cases', JSON.stringify(cases)], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, SHARDLAB_HOME: TEST_HOME, ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(r.stdout) as CliResult[];
  assert.equal(results.length, cases.length);
  return results;
}

/** Commands that must each succeed (exit 0) and print one JSON value, run as shardlabInOneProcess runs them; the values. */
export function jsonInOneProcess<T = Record<string, unknown>>(cases: string[][]): T[] {
  return shardlabInOneProcess(cases).map((r, i) => succeededJson<T>(cases[i], r));
}

/** Checks every case as assertRefused does, all run in one process. */
export function assertAllRefused(cases: [args: string[], pattern: RegExp][], env: NodeJS.ProcessEnv = {}): void {
  const results = shardlabInOneProcess(
    cases.map(([args]) => args),
    env,
  );
  cases.forEach(([args, pattern], i) => checkRefused(args, pattern, results[i]));
}

/** Refusals gathered first (add), run together in one process (run), each checked by its own test (the function add returns). */
export class Refusals {
  private readonly cases: [string[], RegExp][] = [];
  private results?: CliResult[];

  add(args: string[], pattern: RegExp): () => void {
    const i = this.cases.push([args, pattern]) - 1;
    return () => {
      assert.ok(this.results, 'the refusals were not run');
      checkRefused(args, pattern, this.results[i]);
    };
  }

  run(env: NodeJS.ProcessEnv = {}): void {
    this.results = shardlabInOneProcess(
      this.cases.map(([args]) => args),
      env,
    );
  }
}
