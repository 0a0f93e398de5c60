import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeBatch } from '../engine/families/bert/batch.js';
import { BertModel } from '../engine/families/bert/model.js';
import { loadTask } from '../engine/families/bert/datasets.js';
import { RealClock, VirtualClock, type Clock } from '../engine/pipeline/clock.js';
import { getFamily } from '../engine/families/index.js';
import { ExperimentStore } from '../engine/store/db.js';
import { uniformConfiguration } from '../engine/families/bert/configuration.js';
import { executePlan, type BertRunResult } from '../engine/families/bert/program.js';
import { fillPreload, paradigmPlan, type Plan } from '../engine/families/bert/plan/plan.js';
import { ShardStore, writeStore } from '../engine/families/bert/shard-store.js';
import { syntheticShard } from '../engine/families/bert/warm-up.js';
import { emptyLayer } from '../engine/families/bert/layout.js';
import { CostModel, resolveSettings } from '../engine/soc/cost.js';
import { getSocProfile } from '../engine/soc/load.js';
import { SPAM_MODEL, tempDir } from './helpers.js';

describe('warm-up before a real-time request', () => {
  let store: ShardStore;
  let model: BertModel;
  const profile = getSocProfile('odroid-n2plus');
  const cost = new CostModel(profile, resolveSettings(profile));
  const batch = () => makeBatch([model.tokenizer.encode(loadTask('spam', 'dev').examples[0].text)]);
  /** Layers 0 and 2 at 4 bits, 1 and 3 at fp32, layer 0 in the preload buffer: every path the executor has. */
  let plan: Plan;
  before(async () => {
    store = writeStore(SPAM_MODEL, join(tempDir(), 'store'), [4, 32]);
    model = await BertModel.create(store.dir, store.config, store.base(), { threads: 2 });
    const bits = Array.from({ length: 4 }, (_, l) => Array<number>(8).fill(l % 2 ? 32 : 4));
    const layer0 = bits[0].reduce((a, b, s) => a + store.shardBytes(0, s, b), 0);
    plan = fillPreload(
      paradigmPlan('layerwise', { layers: 4, slices: 8, bits }),
      (u) => store.shardBytes(u.layer, u.slice, u.bits),
      layer0,
    );
  });
  after(() => model.release());

  const run = (warmUp: boolean, clock: Clock = new VirtualClock()): Promise<BertRunResult> =>
    executePlan({ plan, store, model, cost, clock, batch: batch(), warmUp });

  test('does not change the virtual-time result: same events, memory, makespan and logits', async () => {
    const cold = await run(false);
    const warm = await run(true);
    assert.equal(cold.warmUp, undefined);
    assert.deepEqual(warm.events, cold.events);
    assert.deepEqual(warm.memory, cold.memory);
    assert.equal(warm.makespanUs, cold.makespanUs);
    assert.deepEqual([...warm.logits], [...cold.logits]);
    const w = warm.warmUp!;
    assert.equal(w.done, true);
    assert.deepEqual(
      w.steps.map((s) => s.what.split(' ')[0]),
      ['onnxruntime', 'read', 'decoders', 'executor', 'a'],
    );
    assert.match(w.steps[2].what, /\(4, 32 bits\)/);
    assert.ok(w.steps.every((s) => s.ms >= 0) && w.ms >= w.steps.reduce((a, s) => a + s.ms, 0) - 1e-9);
    assert.match(w.pageCache, /page cache/);
  });

  test('runs before the clock starts and reads none of the shards the request streams', async () => {
    const log: string[] = [];
    const spied = spy(log);
    try {
      const clock = new VirtualClock();
      const start = clock.start.bind(clock);
      clock.start = () => (log.push('clock start'), start());
      await run(true, clock);
    } finally {
      spied.restore();
    }
    const at = log.indexOf('clock start');
    assert.ok(at > 0, 'the clock started');
    const before = log.slice(0, at);
    const streamed = new Set(plan.units.filter((u) => !u.preload).map((u) => store.entry(u.layer, u.slice, u.bits).file));
    // Before the clock: the warm-up's read of a file the IO stage never streams, its layer runs, and the
    // preload buffer's synchronous reads (the plan's resident shards, read before every request).
    assert.deepEqual(
      before.filter((e) => e.startsWith('readAsync')),
      ['readAsync config.json'],
    );
    assert.ok(before.filter((e) => e === 'runLayer').length >= 2);
    assert.ok(!before.some((e) => streamed.has(e.replace(/^read(Async)? /, ''))), 'no streamed shard is read before the clock');
    // After: the request itself, every streamed shard once and a layer run per layer.
    const afterStart = log.slice(at + 1);
    assert.equal(afterStart.filter((e) => e.startsWith('readAsync')).length, streamed.size);
    assert.equal(afterStart.filter((e) => e === 'runLayer').length, plan.layers);
  });

  /** Records the store's reads and the model's layer runs into `log`, in order. */
  function spy(log: string[]): { restore(): void } {
    const { read, readAsync } = store;
    const { runLayer } = model;
    store.read = (rel) => (log.push(`read ${rel}`), read.call(store, rel));
    store.readAsync = (rel) => (log.push(`readAsync ${rel}`), readAsync.call(store, rel));
    model.runLayer = (...a) => (log.push('runLayer'), runLayer.apply(model, a));
    return {
      restore() {
        Object.assign(store, { read, readAsync });
        Object.assign(model, { runLayer });
      },
    };
  }

  test('the workbench’s runs warm up in real time only', async () => {
    const db = ExperimentStore.open(join(tempDir(), 'db.sqlite'));
    const m = await getFamily('bert').open(store.dir, { db, threads: 2 });
    try {
      const small = paradigmPlan('layerwise', uniformConfiguration(1, 2, 4));
      const fast = new CostModel(profile, resolveSettings(profile, { ioMBps: 2000 }));
      const real = (await m.run(small, fast, new RealClock(), { seq: 16 })) as BertRunResult;
      assert.equal(real.warmUp?.done, true);
      const virtual = (await m.run(small, fast, new VirtualClock(), { seq: 16 })) as BertRunResult;
      assert.equal(virtual.warmUp, undefined);
    } finally {
      await m.release();
      db.close();
    }
  });

  test('a synthetic shard has the stored size at fp32 and decodes through the store at every bitwidth it holds', () => {
    assert.equal(syntheticShard(store, 1, 3, 32).length, store.shardBytes(1, 3, 32));
    const into = emptyLayer(store.config);
    for (const bits of store.bits) store.decodeInto(2, 5, bits, syntheticShard(store, 2, 5, bits), into);
  });
});
