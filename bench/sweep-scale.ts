/**
 * A 1,000-point virtual sweep (10 SoCs × 5 targets × 4 buffers × 5 planners) on the bert-spam fixture,
 * with its accuracies already cached: timed in-process through runSweep (the function the CLI calls),
 * with the time split by phase, and as the CLI a user runs (`shardlab sweep …` in a fresh process).
 *
 * Set-up, timed apart: a fresh SHARDLAB_HOME (never the user's store), the shard store made from the
 * checkpoint, STI's importance profile (about a minute the first time), and every configuration the
 * sweep's plans will ask for evaluated once into the accuracy cache. `optimal` is left out: it plans
 * with an exact solver, seconds per point, which is the planners' cost, not the sweep's.
 *
 *   npm run bench:sweep-scale -- [--home DIR] [--socs N] [--runs R]
 *
 * --home reuses a set-up from an earlier run (its importance profile and accuracies stay cached).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { home: { type: 'string' }, socs: { type: 'string', default: '10' }, runs: { type: 'string', default: '1' } },
});
const home = values.home ?? mkdtempSync(join(tmpdir(), 'shardlab-sweep-scale-'));
process.env.SHARDLAB_HOME = home;

// Imported after SHARDLAB_HOME is set, so nothing reaches the user's data directory.
const { familyOf } = await import('../engine/families/index.js');
const { loadSocProfiles } = await import('../engine/soc/load.js');
const { CostModel, resolveSettings } = await import('../engine/soc/cost.js');
const { ExperimentStore } = await import('../engine/store/db.js');
const { runSweep } = await import('../engine/sweep/sweep.js');
const { newPhases, PHASES } = await import('../engine/sweep/phases.js');
type SweepSpec = import('../engine/sweep/types.js').SweepSpec;

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const spec: SweepSpec = {
  model: join(ROOT, 'fixtures/models/bert-spam'),
  socs: loadSocProfiles()
    .map((p) => p.id)
    .sort()
    .slice(0, Number(values.socs)),
  targetsMs: [10, 20, 40, 80, 160],
  buffersKb: [0, 100, 400, 1600],
  planners: ['sti', 'sti-plus', 'sti-uniform', 'stdpl-4', 'load-exec-32'],
  split: 'dev',
  limit: 32,
  importance: 'sti:32/2',
  seq: 128,
};
const points = spec.socs.length * spec.targetsMs.length * spec.buffersKb.length * spec.planners.length;
const s = (ms: number) => (ms / 1000).toFixed(2);

/** The store, the importance profile and the accuracy of every configuration the sweep will plan. */
async function setUp(): Promise<void> {
  const db = ExperimentStore.open();
  const model = await familyOf(spec.model).open(spec.model, { db });
  try {
    const importance = (await model.ensureImportance(spec.limit, { method: spec.importance })).grid;
    const hashes = new Set<string>();
    for (const profile of loadSocProfiles().filter((p) => spec.socs.includes(p.id))) {
      const cost = new CostModel(profile, resolveSettings(profile));
      for (const targetMs of spec.targetsMs)
        for (const bufferKb of spec.buffersKb)
          for (const planner of spec.planners) {
            const { plan } = model.plan(cost, { planner, targetMs, bufferBytes: bufferKb * 1024, seq: spec.seq, importance });
            hashes.add((await model.quality(plan, { split: spec.split, limit: spec.limit })).configHash);
          }
    }
    console.log(`set-up: ${hashes.size} distinct configurations in the accuracy cache`);
  } finally {
    await model.release();
    db.close();
  }
}

async function inProcess(): Promise<void> {
  const db = ExperimentStore.open();
  const phases = newPhases();
  const start = performance.now();
  const sweep = await runSweep(spec, db, { phases });
  const wall = performance.now() - start;
  db.close();
  console.log(`in-process runSweep: ${sweep.rows.length} points in ${s(wall)} s = ${((1000 * points) / wall).toFixed(0)} points/s`);
  const other = wall - PHASES.reduce((a, p) => a + phases[p], 0);
  for (const [name, ms] of [...PHASES.map((p) => [p, phases[p]] as const), ['other', other] as const])
    console.log(`  ${name.padEnd(11)} ${s(ms).padStart(7)} s  ${((100 * ms) / wall).toFixed(1).padStart(5)} %`);
}

function cli(): void {
  const args = ['sweep', '--model', spec.model, '--socs', spec.socs.join(','), '--targets-ms', spec.targetsMs.join(',')];
  args.push('--buffers-kb', spec.buffersKb.join(','), '--planners', spec.planners.join(','), '--limit', String(spec.limit));
  const start = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/shardlab.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = performance.now() - start;
  if (r.status !== 0) throw new Error(`shardlab sweep exited ${r.status}: ${r.stderr}`);
  const rows = r.stdout.split('\n').filter((l) => spec.socs.some((soc) => l.startsWith(soc + ' '))).length;
  if (rows !== points) throw new Error(`shardlab sweep printed ${rows} rows, expected ${points}`);
  console.log(`CLI (fresh process):  ${rows} points in ${s(wall)} s = ${((1000 * points) / wall).toFixed(0)} points/s`);
}

console.log(`home ${home}`);
console.log(
  `sweep: ${spec.socs.length} SoCs x ${spec.targetsMs.length} targets x ${spec.buffersKb.length} buffers x ${spec.planners.length} planners` +
    ` (${spec.planners.join(', ')}) = ${points} points, bert-spam, --limit ${spec.limit}`,
);
const t0 = performance.now();
await setUp();
console.log(`set-up (importance profile, accuracy cache; not part of the figures below): ${s(performance.now() - t0)} s`);
console.log('figures below: accuracies cached');
for (let i = 0; i < Number(values.runs); i++) {
  await inProcess();
  cli();
}
