/**
 * A sweep's configurations evaluated elsewhere give the rows of the sweep run here: on a pool of threads,
 * and through a real redis-server with worker processes, one of them killed mid-job, one refusing a model
 * that is not the submitter's, and a Redis that restarts mid-sweep.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { ExperimentStore } from '../engine/store/db.js';
import { runSweep } from '../engine/sweep/sweep.js';
import { rowsWithoutEvents } from '../engine/sweep/table.js';
import type { SweepRow, SweepSpec } from '../engine/sweep/types.js';
import { ROOT, shardlab, SOTU_MODEL, SPAM_MODEL, TEST_HOME, tempDir } from './helpers.js';
import { assertAllRefused } from './refusals.js';
import { emptyRedisDb, redisMissing, stopOwnRedis, TestRedis } from './redis.js';

process.env.SHARDLAB_HOME = TEST_HOME;

// Four points, two distinct configurations, on 16 examples: a second or two of real evaluation each.
const spec: SweepSpec = {
  model: SPAM_MODEL,
  socs: ['odroid-n2plus'],
  targetsMs: [40, 120],
  buffersKb: [400],
  planners: ['stdpl-32', 'hold-4'],
  split: 'dev',
  limit: 16,
  importance: 'sti:32/2',
  seq: 128,
};
const SWEEP_ARGS = [
  'sweep',
  ...['--model', SPAM_MODEL, '--socs', spec.socs.join(','), '--targets-ms', spec.targetsMs.join(',')],
  ...['--buffers-kb', '400', '--planners', spec.planners.join(','), '--limit', '16', '--json'],
];
const CONFIGS = 2;
const ENV = { ...process.env, SHARDLAB_HOME: TEST_HOME, SHARDLAB_QUEUE_POLL_MS: '100' };

/** The rows of the sweep run here, one configuration after another: what every other way must give. */
let local: Omit<SweepRow, 'events'>[];

before(async () => {
  const db = ExperimentStore.open(join(tempDir(), 'local.db'));
  try {
    local = rowsWithoutEvents((await runSweep(spec, db, { workers: 1 })).rows);
  } finally {
    db.close();
  }
});

/** Each configuration's quality is stored once, and the rows name exactly the stored ones. */
function assertStoredOnce(dbPath: string, rows: { configHash: string }[]): void {
  const db = new Database(dbPath, { readonly: true });
  const stored = db.prepare('SELECT config_hash FROM quality').all() as { config_hash: string }[];
  db.close();
  const hashes = stored.map((r) => r.config_hash);
  assert.equal(new Set(hashes).size, hashes.length);
  assert.deepEqual(new Set(hashes), new Set(rows.map((r) => r.configHash)));
}

test('on a pool of two threads a sweep stores the rows it stores evaluating one configuration at a time', async () => {
  const path = join(tempDir(), 'pool.db');
  const db = ExperimentStore.open(path);
  try {
    const pending: number[] = [];
    const sweep = await runSweep(spec, db, { workers: 2, onPending: (p) => pending.push(p.length) });
    assert.deepEqual(pending, [CONFIGS], 'every configuration evaluated');
    assert.deepEqual(rowsWithoutEvents(sweep.rows), local);
  } finally {
    db.close();
  }
  assertStoredOnce(path, local);
});

/** A process of the CLI whose output is read as it comes. */
class Cli {
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [join(ROOT, 'bin/shardlab.js'), ...args], { env: ENV });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d));
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Waits until stdout matches. */
  async saw(re: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
    for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 25))) {
      const m = this.out.match(re);
      if (m) return m;
      if (this.child.exitCode !== null) break;
    }
    throw new Error(`never printed ${re}: stdout ${this.out} stderr ${this.err}`);
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

function worker(url: string, ...more: string[]): Cli {
  return new Cli(['worker', '--queue', url, '--lock-ms', '1000', ...more]);
}

/** Runs a queued sweep to its end; its exit code, stdout and stderr. */
async function submit(url: string, dbPath: string, ...more: string[]): Promise<{ status: number | null; out: string; err: string }> {
  const s = new Cli([...SWEEP_ARGS, '--queue', url, '--db', dbPath, ...more]);
  const status = await s.exited;
  return { status, out: s.out, err: s.err };
}

function rowsOf(out: string): Omit<SweepRow, 'events'>[] {
  return (JSON.parse(out) as { rows: Omit<SweepRow, 'events'>[] }).rows;
}

describe('through a BullMQ queue on redis-server', { skip: redisMissing() }, () => {
  const workers: Cli[] = [];
  after(async () => {
    for (const w of workers) w.stop();
    await stopOwnRedis();
  });

  test('two worker processes give the rows of the sweep run here, and shardlab sweeps has nothing left queued', async () => {
    const url = await emptyRedisDb(1);
    workers.push(worker(url), worker(url));
    // Both ready before the jobs come, so each takes one (each evaluates one at a time).
    for (const w of workers) await w.saw(/waiting for jobs/);
    const dbPath = join(tempDir(), 'queued.db');
    const r = await submit(url, dbPath);
    assert.equal(r.status, 0, r.err);
    assert.deepEqual(rowsOf(r.out), local);
    assertStoredOnce(dbPath, local);
    for (const w of workers) assert.match(w.out, /^done [0-9a-f]+: /m);
    const list = shardlab('sweeps', '--db', dbPath);
    assert.equal(list.status, 0, list.stderr);
    assert.doesNotMatch(list.stdout, /queued/);
    assert.match(list.stdout, /4 rows/);
    workers.splice(0).forEach((w) => w.stop());
  });

  test('a worker SIGKILLed mid-job loses nothing: its job is taken over and every row is stored once', async () => {
    const url = await emptyRedisDb(2);
    const doomed = worker(url);
    workers.push(doomed);
    const dbPath = join(tempDir(), 'killed.db');
    const submitted = submit(url, dbPath);
    const [, hash] = await doomed.saw(/^started ([0-9a-f]+)/m);
    doomed.child.kill('SIGKILL');
    const survivor = worker(url);
    workers.push(survivor);
    const r = await submitted;
    assert.equal(r.status, 0, r.err);
    assert.doesNotMatch(doomed.out, /^done /m, 'killed before it finished');
    assert.match(survivor.out, new RegExp(`^done ${hash}: `, 'm'), 'the killed job was evaluated by the other worker');
    const rows = rowsOf(r.out);
    assert.deepEqual(rows, local);
    assert.equal(new Set(rows.map((x) => `${x.soc} ${x.planner} ${x.targetMs} ${x.bufferKb}`)).size, rows.length);
    assertStoredOnce(dbPath, local);
    workers.splice(0).forEach((w) => w.stop());
  });

  test("a worker with another model fails each job once with the checksum's message; --resume with the right worker finishes", async () => {
    const url = await emptyRedisDb(3);
    // A different model under the spam model's folder name.
    const models = tempDir();
    cpSync(SOTU_MODEL, join(models, 'bert-spam'), { recursive: true });
    const wrong = worker(url, '--models', models);
    workers.push(wrong);
    const dbPath = join(tempDir(), 'resumed.db');
    const failed = await submit(url, dbPath);
    assert.equal(failed.status, 2, failed.err);
    const last = failed.err.trim().split('\n').at(-1)!;
    assert.match(last, /^shardlab: 2 of 2 configurations failed in the queue .*checksum .*--resume (\d+)/);
    assert.equal(wrong.out.match(/^started /gm)?.length, CONFIGS, 'each job tried once, not again and again');
    wrong.stop();
    const id = last.match(/--resume (\d+)/)![1];
    const queued = shardlab('sweeps', '--db', dbPath);
    assert.match(queued.stdout, new RegExp(`^q +${id} .*queued .*failed ${CONFIGS}`, 'm'));
    workers.push(worker(url));
    const s = new Cli(['sweep', '--resume', id, '--db', dbPath, '--json']);
    assert.equal(await s.exited, 0, s.err);
    assert.deepEqual(rowsOf(s.out), local);
    assert.doesNotMatch(shardlab('sweeps', '--db', dbPath).stdout, /queued/);
    workers.splice(0).forEach((w) => w.stop());
  });

  test('Redis restarting mid-sweep (losing the queue) loses no finished answer: the lost jobs are queued again', async () => {
    const redis = await TestRedis.start();
    try {
      const w = worker(redis.url);
      workers.push(w);
      const dbPath = join(tempDir(), 'restart.db');
      const submitted = submit(redis.url, dbPath);
      await w.saw(/^done /m);
      await redis.down();
      await redis.up();
      const r = await submitted;
      assert.equal(r.status, 0, r.err);
      assert.deepEqual(rowsOf(r.out), local);
      assertStoredOnce(dbPath, local);
    } finally {
      workers.splice(0).forEach((w) => w.stop());
      await redis.down();
    }
  });
});

describe('queue flags refused with one line, nothing stored lost', () => {
  const refused = (r: { status: number | null; stderr: string }, re: RegExp) => {
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr.trim(), re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  };

  test('a URL that is not Redis, a Redis that does not answer, an unknown --resume id, --concurrency 0', () => {
    const db = join(tempDir(), 'flags.db');
    refused(shardlab(...SWEEP_ARGS, '--db', db, '--queue', 'http://localhost:6379'), /--queue .*redis:\/\/HOST:PORT/);
    // The rest through the CLI's main in one process (refusals.ts), each checked as above (and for an empty stdout).
    assertAllRefused([
      [[...SWEEP_ARGS, '--db', db, '--queue', 'redis://127.0.0.1:1'], /cannot reach Redis/],
      [['sweep', '--resume', '99', '--db', db], /no queued sweep 99/],
      [['worker', '--queue', 'redis://127.0.0.1:1', '--concurrency', '0'], /--concurrency takes a positive integer/],
    ]);
  });
});
