/**
 * One fixed sweep with none of its accuracies cached (a fresh experiment store for each contender),
 * timed three ways in one run: in this process on one core (one configuration after another, one
 * onnxruntime thread), on the local pool (a worker thread per core), and through a BullMQ queue on a
 * redis-server of its own with two `shardlab worker` processes. Prints wall times, the ratios, and the
 * queue's overhead per configuration over the pool (same cores, same evaluations).
 *
 *   npm run bench:sweep -- [--rounds R]
 *
 * With R rounds the contenders take turns R times and each one's best time counts. Two more runs measure
 * the queue's own cost per configuration: every answer already in Redis, collected into a fresh store,
 * against the same sweep with every accuracy cached.
 *
 * The shard store is made (and the model's runtime warmed) before any timing. Needs redis-server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';

const home = mkdtempSync(join(tmpdir(), 'shardlab-bench-sweep-'));
process.env.SHARDLAB_HOME = home;
// One onnxruntime thread wherever a configuration is evaluated: in this process, a pool thread, a worker's thread.
process.env.SHARDLAB_THREADS = '1';

// Imported after SHARDLAB_HOME is set, so nothing reaches the user's data directory.
const { familyOf } = await import('../engine/families/index.js');
const { ExperimentStore } = await import('../engine/store/db.js');
const { runSweep } = await import('../engine/sweep/sweep.js');
const { evaluateThroughQueue } = await import('../engine/sweep/queue-submit.js');
const { rowsWithoutEvents } = await import('../engine/sweep/table.js');
// The queue tests' redis-server of its own: a free loopback port, nothing kept on disk.
const { TestRedis } = await import('../test/redis.js');
type SweepSpec = import('../engine/sweep/types.js').SweepSpec;
type SweepOptions = import('../engine/sweep/sweep.js').SweepOptions;

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const spec: SweepSpec = {
  model: join(ROOT, 'fixtures/models/bert-spam'),
  socs: ['jetson-nano-gpu', 'odroid-n2plus', 'pixel7', 'rpi4-sd'],
  targetsMs: [10, 20, 40, 80, 160],
  buffersKb: [0, 400],
  // Planners that rank by importance are left out: their profile is made once on the submitter, not the sweep's work.
  planners: ['sti-uniform', 'stdpl-4', 'stdpl-6', 'load-exec-32', 'hold-4'],
  split: 'dev',
  limit: 64,
  importance: 'sti:32/2',
  seq: 128,
};
const cores = availableParallelism();
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '1' } } });
const rounds = Number(values.rounds);
const s = (ms: number) => (ms / 1000).toFixed(1);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');

interface Timing {
  ms: number;
  configs: number;
  rows: string;
}

/** Times a sweep on store `dbName` (fresh unless named before); returns the wall time and the configurations it evaluated. */
async function timedSweep(name: string, dbName: string, o: SweepOptions): Promise<Timing> {
  const db = ExperimentStore.open(join(home, `${dbName}.db`));
  let configs = 0;
  try {
    const start = performance.now();
    const sweep = await runSweep(spec, db, { ...o, onPending: (p) => (configs = p.length) });
    const ms = performance.now() - start;
    const rows = JSON.stringify(rowsWithoutEvents(sweep.rows));
    console.log(`  ${name.padEnd(40)} ${s(ms).padStart(6)} s  (${configs} configurations evaluated; load ${load()})`);
    return { ms, configs, rows };
  } finally {
    db.close();
  }
}

/**
 * How much parallel work this shared machine gives right now: fixed busy loops on `cores` threads against
 * one, as a speed-up (the ceiling any contender here can reach).
 */
async function parallelism(): Promise<number> {
  const spin = `let x = 0; for (let i = 0; i < 3e8; i++) x += i % 7; require('node:worker_threads').parentPort.postMessage(x);`;
  const time = async (n: number) => {
    const start = performance.now();
    await Promise.all(Array.from({ length: n }, () => new Promise((r) => new Worker(spin, { eval: true }).once('message', r))));
    return performance.now() - start;
  };
  const one = await time(1);
  return (cores * one) / (await time(cores));
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGTERM');
  await once(p, 'exit');
}

/** A `shardlab worker`, resolved once it waits for jobs. */
async function startWorker(url: string): Promise<ChildProcess> {
  const w = spawn(process.execPath, [join(ROOT, 'bin/shardlab.js'), 'worker', '--queue', url], { env: process.env });
  let out = '';
  w.stdout!.on('data', (d: Buffer) => (out += d));
  while (!out.includes('waiting for jobs')) {
    if (w.exitCode !== null) throw new Error(`the worker exited: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return w;
}

if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('redis-server is missing: apt-get install redis-server');

// Set-up, untimed: the shard store from the checkpoint, and one evaluation to load what every contender loads.
{
  const db = ExperimentStore.open(join(home, 'setup.db'));
  const model = await familyOf(spec.model).open(spec.model, { db });
  await model.release();
  db.close();
}
console.log(
  `sweep: ${spec.socs.length} SoCs x ${spec.targetsMs.length} targets x ${spec.buffersKb.length} buffers x ${spec.planners.length} planners on bert-spam, accuracy on ${spec.limit} dev examples; ${cores} cores`,
);

const redis = await TestRedis.start();
const best: Record<'one' | 'pool' | 'queue' | 'cached' | 'collected', Timing[]> = {
  one: [],
  pool: [],
  queue: [],
  cached: [],
  collected: [],
};
const workers: ChildProcess[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    console.log(`round ${round} of ${rounds}: ${cores} busy threads do ${(await parallelism()).toFixed(2)}x the work of one right now`);
    best.one.push(await timedSweep('local, 1 core', `one-${round}`, { workers: 1 }));
    best.pool.push(await timedSweep(`local pool, ${cores} threads`, `pool-${round}`, { workers: cores }));
    // A Redis database of its own each round, so no answer is already there.
    const url = `${redis.url}/${round}`;
    for (let i = 0; i < 2; i++) workers.push(await startWorker(url));
    const evaluate = evaluateThroughQueue(url, { pollMs: 100 });
    best.queue.push(await timedSweep('queue, 2 workers', `queue-${round}`, { evaluate }));
    for (const w of workers.splice(0)) await stop(w);
    // The queue's own cost: every answer already in Redis, collected into a fresh store, against a sweep with all cached.
    best.cached.push(await timedSweep('local, all accuracies cached', `one-${round}`, { workers: 1 }));
    best.collected.push(await timedSweep('queue, all answers already in Redis', `collected-${round}`, { evaluate }));
  }
} finally {
  for (const w of workers) await stop(w);
  await redis.down();
}

const min = (ts: Timing[]) => Math.min(...ts.map((t) => t.ms));
const [one, pool, queue] = [best.one, best.pool, best.queue].map(min);
const configs = best.one[0].configs;
const all = Object.values(best).flat();
const same = all.every((t) => t.rows === all[0].rows);
/** Per round, (a − b) per configuration, ms: the rounds' range. */
const perConfig = (a: Timing[], b: Timing[]) => {
  const d = a.map((t, i) => (t.ms - b[i].ms) / configs);
  return `${Math.min(...d).toFixed(1)} to ${Math.max(...d).toFixed(1)} ms`;
};
console.log(
  `\nbest of ${rounds} round(s): 1 core ${s(one)} s, pool ${s(pool)} s, queue ${s(queue)} s (${configs} configurations evaluated)`,
);
console.log(`rows identical in every run: ${same ? 'yes' : 'NO'}`);
console.log(
  `speed-up over 1 core: pool ${(one / pool).toFixed(2)}x, queue with 2 workers ${(one / queue).toFixed(2)}x (${cores} cores: ${cores}x is the ceiling)`,
);
console.log(
  `queue / pool: ${(queue / pool).toFixed(2)}; queue minus pool per configuration, by round: ${perConfig(best.queue, best.pool)}`,
);
console.log(
  `queue machinery alone (enqueue, poll every 100 ms, fetch, store; no evaluation), by round: ${perConfig(best.collected, best.cached)} per configuration`,
);
console.log(`load average at the end: ${load()}`);
rmSync(home, { recursive: true, force: true });
if (!same) process.exitCode = 1;
