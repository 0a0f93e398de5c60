import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from dist/test/). */
export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const SPAM_MODEL = join(ROOT, 'fixtures/models/bert-spam');
export const SOTU_MODEL = join(ROOT, 'fixtures/models/bert-sotu-era');
export const FIXTURE_MODELS = [SPAM_MODEL, SOTU_MODEL];

export function tempDir(prefix = 'shardlab-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The CLI's data directory (default database, profiles, settings) for this test process. */
export const TEST_HOME = tempDir('shardlab-home-');

// Stores made from the fixtures (shards, RWKV-edge layouts, shape-only models) are shared by the test files
// of one run (the runner is every file's parent): each file sharding the same checkpoints again was minutes.
// The cache's own behaviour (first use, racing writers, kills) is tested on fresh ones in shard-cache.test.
process.env.SHARDLAB_CACHE ??= join(tmpdir(), `shardlab-test-cache-${process.ppid}`);

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function shardlab(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/shardlab.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, SHARDLAB_HOME: TEST_HOME },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command that must succeed (exit 0) and print one JSON value; returns the value. */
export function shardlabJson<T = Record<string, unknown>>(...args: string[]): T {
  const r = shardlab(...args);
  assert.equal(r.status, 0, `shardlab ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A writable copy of a model directory. */
export function copyModel(dir: string): string {
  const out = join(tempDir(), 'model');
  cpSync(dir, out, { recursive: true });
  return out;
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
