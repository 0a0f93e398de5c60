/**
 * What makes a large sweep fast must not change its rows: the executor's dry run (no real work) gives a
 * real run's result in virtual time, and a sweep stores the same rows with and without the real work.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { familyOf, type FamilyModel } from '../engine/families/index.js';
import { VirtualClock } from '../engine/pipeline/clock.js';
import { CostModel, resolveSettings } from '../engine/soc/cost.js';
import { getSocProfile } from '../engine/soc/load.js';
import { ExperimentStore } from '../engine/store/db.js';
import { runSweep } from '../engine/sweep/sweep.js';
import type { SweepSpec } from '../engine/sweep/types.js';
import { SPAM_MODEL, TEST_HOME } from './helpers.js';

process.env.SHARDLAB_HOME = TEST_HOME;

let db: ExperimentStore;
let model: FamilyModel;

before(async () => {
  db = ExperimentStore.open();
  model = await familyOf(SPAM_MODEL).open(SPAM_MODEL, { db });
});
after(async () => {
  await model.release();
  db.close();
});

/** A run's result as a dry run gives it: everything but the logits (and fields a run leaves undefined). */
function withoutLogits(r: object): object {
  return Object.fromEntries(Object.entries(r).filter(([k, v]) => k !== 'logits' && v !== undefined));
}

const costOf = (soc: string) => {
  const p = getSocProfile(soc);
  return new CostModel(p, resolveSettings(p));
};

test('a dry run in virtual time is the real run but for the logits', async () => {
  const { layers, slices } = model.info;
  // A fixed importance pattern: the ranking planners plan without a profiled one.
  const importance = Array.from({ length: layers }, (_, l) => Array.from({ length: slices }, (_, s) => ((l * 5 + s * 3) % 7) / 7));
  let compared = 0;
  for (const soc of ['odroid-n2plus', 'jetson-nano-gpu'])
    for (const [planner, targetMs, bufferKb] of [
      ['sti', 40, 400],
      ['sti-plus', 20, 100],
      ['load-exec-32', 40, 0],
      ['hold-4', 40, 400],
    ] as const) {
      const cost = costOf(soc);
      const { plan } = model.plan(cost, { planner, targetMs, bufferBytes: bufferKb * 1024, seq: 128, importance });
      const real = await model.run(plan, cost, new VirtualClock(), { seq: 128 });
      const dry = await model.run(plan, cost, new VirtualClock(), { seq: 128, dryRun: true });
      assert.ok('logits' in real && !('logits' in dry));
      assert.deepEqual(dry, withoutLogits(real), `${soc} ${planner}`);
      assert.ok(dry.events.length > 0 && dry.makespanUs > 0);
      compared++;
    }
  assert.equal(compared, 8);
});

test('a dry run refuses a real clock', async () => {
  const cost = costOf('odroid-n2plus');
  const { plan } = model.plan(cost, { planner: 'stdpl-4', targetMs: 40, bufferBytes: 0, seq: 128 });
  const { RealClock } = await import('../engine/pipeline/clock.js');
  await assert.rejects(model.run(plan, cost, new RealClock(), { seq: 128, dryRun: true }), /virtual time/);
});

test('a sweep stores the same rows with the real work as without it', async () => {
  const spec: SweepSpec = {
    model: SPAM_MODEL,
    socs: ['odroid-n2plus', 'jetson-nano-gpu', 'pixel7'],
    targetsMs: [20, 80],
    buffersKb: [0, 400],
    planners: ['sti-uniform', 'stdpl-4', 'load-exec-32', 'submodel'],
    split: 'dev',
    limit: 8,
    importance: 'sti:32/2',
    seq: 128,
  };
  const real = await runSweep(spec, db, { realWork: true });
  const fast = await runSweep(spec, db);
  assert.equal(fast.rows.length, 3 * 2 * 2 * 4);
  assert.notEqual(fast.id, real.id);
  assert.deepEqual(fast.rows, real.rows);
  assert.deepEqual(db.getSweep(fast.id)!.rows, db.getSweep(real.id)!.rows);
});
