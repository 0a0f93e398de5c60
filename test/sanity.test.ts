import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeBatch } from '../engine/families/bert/batch.js';
import { ensureShapeModel } from '../engine/families/bert/shape-model.js';
import { VirtualClock } from '../engine/pipeline/clock.js';
import { dryRunPlan } from '../engine/families/bert/dry-run.js';
import { paradigmPlan } from '../engine/families/bert/plan/plan.js';
import { uniformConfiguration } from '../engine/families/bert/configuration.js';
import { writeStore } from '../engine/families/bert/shard-store.js';
import { CostModel, resolveSettings } from '../engine/soc/cost.js';
import { getSocProfile } from '../engine/soc/load.js';
import { TEST_HOME, tempDir } from './helpers.js';

test('STI §12 sanity check: fp32 layerwise pipelining of shape-only bert-base on odroid-n2plus stalls about 220 ms per layer', async () => {
  process.env.SHARDLAB_HOME = TEST_HOME;
  const store = writeStore(ensureShapeModel('bert-base'), join(tempDir(), 'store'), [32]);
  const profile = getSocProfile('odroid-n2plus');
  const ids = Int32Array.from({ length: 128 }, (_, i) => (i === 0 ? 2 : i === 127 ? 3 : 5 + i));
  // Modeled stalls only: the executor runs dry (every task takes its modeled time, nothing is computed);
  // sweep-scale.test holds a dry run's timeline equal to the real run's.
  const r = await dryRunPlan({
    plan: paradigmPlan('layerwise', uniformConfiguration(12, 12, 32)),
    store,
    cost: new CostModel(profile, resolveSettings(profile)),
    clock: new VirtualClock(),
    batch: makeBatch([ids]),
  });
  const stalls = Array.from(
    { length: 12 },
    (_, l) => r.events.filter((e) => e.stage === 'stall' && e.layer === l).reduce((a, e) => a + e.end - e.start, 0) / 1000,
  );
  const steady = stalls.slice(1).reduce((a, b) => a + b, 0) / 11;
  assert.ok(Math.abs(steady - 220) / 220 < 0.05, `steady-state stall ${steady.toFixed(1)} ms per layer`);
  assert.ok(stalls[0] > steady, 'layer 0 waits for its whole first layer: the start-up stall');
});
