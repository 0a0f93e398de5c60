/**
 * One fixed sweep with none of its accuracies cached (a fresh experiment store for each contender),
 * timed three ways in one run: in this process on one core (one configuration after another, one
 * onnxruntime thread), on the local pool (a worker thread per core), and through a BullMQ queue on a
 * redis-server of its own with two `shardlab worker` processes. Prints wall times, the ratios, and the
 * queue's overhead per configuration over the pool (same cores, same evaluations).
 *
 *   npm run bench:sweep
 *
 * The shard store is made (and the model's runtime warmed) before any timing. Needs redis-server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

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
  limit: 32,
  importance: 'sti:32/2',
  seq: 128,
};
const cores = availableParallelism();
const s = (ms: number) => (ms / 1000).toFixed(1);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');

/** Times a sweep on a fresh store; returns the wall time and the configurations it evaluated. */
async function timedSweep(name: string, o: SweepOptions): Promise<{ ms: number; configs: number; rows: string }> {
  const db = ExperimentStore.open(join(home, `${name}.db`));
  let configs = 0;
  try {
    const start = performance.now();
    const sweep = await runSweep(spec, db, { ...o, onPending: (p) => (configs = p.length) });
    const ms = performance.now() - start;
    const rows = JSON.stringify(rowsWithoutEvents(sweep.rows));
    console.log(
      `${name.padEnd(24)} ${s(ms).padStart(6)} s  (${sweep.rows.length} points, ${configs} configurations evaluated; load ${load()})`,
    );
    return { ms, configs, rows };
  } finally {
    db.close();
  }
}

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
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

const one = await timedSweep('local, 1 core', { workers: 1 });
const pool = await timedSweep(`local pool, ${cores} threads`, { workers: cores });

const port = await freePort();
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
  stdio: 'ignore',
});
const url = `redis://127.0.0.1:${port}`;
const workers: ChildProcess[] = [];
let queued: Awaited<ReturnType<typeof timedSweep>>;
try {
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < 2; i++) workers.push(await startWorker(url));
  queued = await timedSweep('queue, 2 workers', { evaluate: evaluateThroughQueue(url, { pollMs: 100 }) });
} finally {
  for (const w of workers) w.kill('SIGTERM');
  redis.kill('SIGTERM');
  await Promise.all([...workers, redis].map((p) => (p.exitCode === null ? once(p, 'exit') : undefined)));
}

const same = one.rows === pool.rows && one.rows === queued.rows;
console.log(`\nrows identical in all three: ${same ? 'yes' : 'NO'}`);
console.log(`pool  / 1 core: ${(one.ms / pool.ms).toFixed(2)}x faster`);
console.log(`queue / 1 core: ${(one.ms / queued.ms).toFixed(2)}x faster`);
console.log(`queue / pool:   ${(queued.ms / pool.ms).toFixed(2)}x the time`);
console.log(
  `queue overhead over the pool: ${((queued.ms - pool.ms) / queued.configs).toFixed(0)} ms per configuration (polling every 100 ms, two worker processes starting their threads and models)`,
);
console.log(`load average at the end: ${load()}`);
rmSync(home, { recursive: true, force: true });
if (!same) process.exitCode = 1;
