import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from dist/test/). */
export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const SPAM_MODEL = join(ROOT, 'fixtures/models/bert-spam');
export const SOTU_MODEL = join(ROOT, 'fixtures/models/bert-sotu-era');
export const FIXTURE_MODELS = [SPAM_MODEL, SOTU_MODEL];

/** Temporary directories of this test process, removed when it exits (a run made gigabytes of them). */
const made: string[] = [];

export function tempDir(prefix = 'shardlab-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** The CLI's data directory (default database, profiles, settings) for this test process. */
export const TEST_HOME = tempDir('shardlab-home-');

// Stores made from the fixtures (shards, RWKV-edge layouts, shape-only models) are shared by the test files
// of one run (the runner is every file's parent): each file sharding the same checkpoints again was minutes.
// The cache's own behaviour (first use, racing writers, kills) is tested on fresh ones in shard-cache.test.
// npm test runs two files at once on two cores: one onnxruntime thread each keeps their pools from
// outnumbering the cores and spinning on the other file's core.
process.env.SHARDLAB_THREADS ??= '1';

const CACHE_PREFIX = 'shardlab-test-cache-';
process.env.SHARDLAB_CACHE ??= join(tmpdir(), `${CACHE_PREFIX}${process.ppid}`);

process.on('exit', () => {
  // Earlier runs' caches go once their runner is gone; this run's stays for the files still to come.
  const stale = readdirSync(tmpdir())
    .filter((d) => d.startsWith(CACHE_PREFIX) && !alive(Number(d.slice(CACHE_PREFIX.length))))
    .map((d) => join(tmpdir(), d));
  for (const dir of [...made, ...stale]) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // A child still writing there (a server being stopped): left to the OS's clean-up of /tmp.
    }
  }
});

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
  return succeededJson<T>(args, shardlab(...args));
}

/** What a command that must succeed (exit 0) printed, as the one JSON value it must be. */
export function succeededJson<T>(args: string[], r: CliResult): T {
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
