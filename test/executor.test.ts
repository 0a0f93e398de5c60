import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeBatch } from '../engine/families/bert/batch.js';
import { BertModel } from '../engine/families/bert/model.js';
import { loadTask } from '../engine/families/bert/datasets.js';
import { RealClock, VirtualClock, type Clock } from '../engine/pipeline/clock.js';
import {
  executePlan as execute,
  predictPlan as predictTimeline,
  type BertRunResult as RunResult,
} from '../engine/families/bert/program.js';
import { chromeTrace, type TraceEvent } from '../engine/pipeline/trace.js';
import { fillPreload, paradigmPlan, type Plan } from '../engine/families/bert/plan/plan.js';
import { uniformConfiguration } from '../engine/families/bert/configuration.js';
import { ShardStore, writeStore } from '../engine/families/bert/shard-store.js';
import { CostModel, resolveSettings, type SettingsOverrides } from '../engine/soc/cost.js';
import { getSocProfile } from '../engine/soc/load.js';
import { SPAM_MODEL, tempDir } from './helpers.js';

describe('pipelined executor on the spam fixture', () => {
  let store: ShardStore;
  let model: BertModel;
  let checkpoint: BertModel;
  const batch = () => makeBatch([checkpoint.tokenizer.encode(loadTask('spam', 'dev').examples[0].text)]);
  before(async () => {
    store = writeStore(SPAM_MODEL, join(tempDir(), 'store'), [4, 32]);
    model = await BertModel.create(store.dir, store.config, store.base(), { threads: 2 });
    checkpoint = await BertModel.load(SPAM_MODEL, { threads: 2 });
  });
  after(async () => {
    await model.release();
    await checkpoint.release();
  });

  function run(plan: Plan, clock: Clock = new VirtualClock(), soc = 'odroid-n2plus', o: SettingsOverrides = {}): Promise<RunResult> {
    const profile = getSocProfile(soc);
    return execute({ plan, store, model, cost: new CostModel(profile, resolveSettings(profile, o)), clock, batch: batch() });
  }
  const full = (bits: number) => uniformConfiguration(4, 8, bits);
  const of = (r: RunResult, stage: TraceEvent['stage']) => r.events.filter((e) => e.stage === stage);

  test('layerwise fp32 computes the checkpoint’s logits and respects every dependency', async () => {
    const r = await run(paradigmPlan('layerwise', full(32)));
    const expected = await checkpoint.logits(batch());
    assert.ok(r.logits.every((v, i) => Math.abs(v - expected[i]) <= 1e-5));
    assert.equal(of(r, 'io').length, 32);
    assert.equal(of(r, 'decompress').length, 32);
    assert.equal(of(r, 'compute').length, 4);
    for (const c of of(r, 'compute')) {
      const shardsDone = Math.max(
        ...of(r, 'decompress')
          .filter((d) => d.layer === c.layer)
          .map((d) => d.end),
      );
      assert.ok(c.start >= shardsDone);
    }
    for (const d of of(r, 'decompress')) {
      const io = of(r, 'io').find((e) => e.layer === d.layer && e.slice === d.slice)!;
      assert.ok(d.start >= io.end);
    }
    // The CPU lane (decompress + compute) never runs two things at once, and neither does IO.
    for (const lane of [['io'], ['decompress', 'compute', 'stall']]) {
      const evs = r.events.filter((e) => lane.includes(e.stage)).sort((a, b) => a.start - b.start);
      for (let i = 1; i < evs.length; i++) assert.ok(evs[i].start >= evs[i - 1].end - 1e-6, `${evs[i - 1].stage} overlaps ${evs[i].stage}`);
    }
    assert.ok(r.stallUs > 0, 'fp32 streaming from eMMC stalls');
    assert.equal(r.makespanUs, Math.max(...of(r, 'compute').map((e) => e.end)));
  });

  test('virtual runs are deterministic and real-time runs compute identical logits', async () => {
    const plan = paradigmPlan('layerwise', full(4));
    const a = await run(plan);
    const b = await run(plan);
    assert.deepEqual(a.events, b.events);
    const real = await run(plan, new RealClock(), 'odroid-n2plus', { ioMBps: 2000 });
    assert.deepEqual([...real.logits], [...a.logits]);
    assert.ok(real.makespanUs > 0);
  });

  test('hold-in-memory streams nothing and never stalls; load-then-execute computes only after all IO', async () => {
    const hold = await run(paradigmPlan('hold', full(4)));
    assert.equal(of(hold, 'io').length, 0);
    assert.equal(hold.stallUs, 0);
    assert.equal(
      hold.persistentBytes,
      store.manifest.shards.filter((s) => s.bits === 4).reduce((a, s) => a + store.manifest.files[s.file].bytes, 0),
    );
    const le = await run(paradigmPlan('load-exec', full(32)));
    const lastIo = Math.max(...of(le, 'io').map((e) => e.end));
    assert.ok(Math.min(...of(le, 'compute').map((e) => e.start)) >= lastIo);
    const lw = await run(paradigmPlan('layerwise', full(32)));
    assert.ok(le.makespanUs > lw.makespanUs, 'pipelining beats load-then-execute');
    assert.ok(le.peakBytes > lw.peakBytes, 'load-then-execute holds the whole model at once');
  });

  test('a preload buffer holding layer 0 removes the start-up stall', async () => {
    const plan = paradigmPlan('layerwise', full(4));
    const bytes = (s: { layer: number; slice: number; bits: number }) => store.shardBytes(s.layer, s.slice, s.bits);
    const layer0 = plan.units.filter((s) => s.layer === 0).reduce((a, s) => a + bytes(s), 0);
    const buffered = await run(fillPreload(plan, bytes, layer0));
    assert.equal(buffered.persistentBytes, layer0);
    assert.equal(of(buffered, 'stall').filter((e) => e.layer === 0).length, 0);
    const plain = await run(plan);
    assert.ok(of(plain, 'stall').some((e) => e.layer === 0));
  });

  test('on a GPU profile decompression overlaps compute', async () => {
    const r = await run(paradigmPlan('layerwise', full(4)), new VirtualClock(), 'jetson-nano-gpu');
    const overlaps = of(r, 'decompress').some((d) => of(r, 'compute').some((c) => d.start < c.end && c.start < d.end));
    assert.ok(overlaps);
  });

  test('the planners’ predicted timeline equals the executor’s virtual-time events exactly', async () => {
    const bytes = (s: { layer: number; slice: number; bits: number }) => store.shardBytes(s.layer, s.slice, s.bits);
    const cases: [Plan, string][] = [
      [paradigmPlan('layerwise', full(32)), 'odroid-n2plus'],
      [paradigmPlan('load-exec', full(4)), 'rpi4-sd'],
      [paradigmPlan('hold', full(4)), 'odroid-n2plus'],
      [fillPreload(paradigmPlan('layerwise', uniformConfiguration(3, 5, 4)), bytes, 200_000), 'odroid-n2plus'],
      [paradigmPlan('layerwise', full(4)), 'jetson-nano-gpu'],
    ];
    for (const [plan, soc] of cases) {
      const profile = getSocProfile(soc);
      const cost = new CostModel(profile, resolveSettings(profile));
      const r = await run(plan, new VirtualClock(), soc);
      const p = predictTimeline({ plan, cost, shape: store.config, seq: batch().length, bytesOf: bytes });
      const key = (e: TraceEvent) => `${e.stage}/${e.layer}/${e.slice}/${e.start.toFixed(3)}/${e.end.toFixed(3)}`;
      assert.deepEqual(p.events.map(key).sort(), r.events.map(key).sort(), `${plan.planner} on ${soc}`);
      assert.ok(Math.abs(p.makespanUs - r.makespanUs) < 1e-6);
      // The makespan and stall a prediction reports before its events are placed are those of its events, and JSON carries them.
      const stall = p.events.reduce((a, e) => a + (e.stage === 'stall' ? e.end - e.start : 0), 0);
      assert.equal(p.stallUs, stall);
      assert.equal(p.makespanUs, Math.max(...p.events.map((e) => e.end)));
      assert.deepEqual(JSON.parse(JSON.stringify(p)), {
        events: JSON.parse(JSON.stringify(p.events)),
        makespanUs: p.makespanUs,
        stallUs: p.stallUs,
      });
    }
  });

  test('the Chrome trace has the fields Perfetto reads', async () => {
    const r = await run(paradigmPlan('layerwise', full(32)));
    const t = JSON.parse(JSON.stringify(chromeTrace(r.events, r.memory, { planner: 'layerwise-32' })));
    assert.ok(Array.isArray(t.traceEvents));
    assert.equal(t.displayTimeUnit, 'ms');
    const names = t.traceEvents
      .filter((e: { ph: string; name: string }) => e.ph === 'M' && e.name === 'thread_name')
      .map((e: { args: { name: string } }) => e.args.name);
    assert.deepEqual(names.sort(), ['compute', 'decompress', 'io', 'stall']);
    const complete = t.traceEvents.filter((e: { ph: string }) => e.ph === 'X');
    assert.equal(complete.length, r.events.length);
    for (const e of complete) {
      for (const k of ['name', 'ph', 'ts', 'dur', 'pid', 'tid']) assert.ok(k in e, `X event lacks ${k}`);
      assert.ok(Number.isFinite(e.ts) && e.dur >= 0);
    }
    const byTid = new Map<number, { ts: number; dur: number }[]>();
    for (const e of complete) byTid.set(e.tid, [...(byTid.get(e.tid) ?? []), e]);
    for (const evs of byTid.values()) {
      evs.sort((a, b) => a.ts - b.ts);
      for (let i = 1; i < evs.length; i++)
        assert.ok(evs[i].ts >= evs[i - 1].ts + evs[i - 1].dur - 1e-6, 'X events on one thread must not overlap');
    }
    const counters = t.traceEvents.filter((e: { ph: string }) => e.ph === 'C');
    assert.ok(
      counters.some((e: { name: string }) => e.name === 'memory') && counters.some((e: { name: string }) => e.name === 'preload buffer'),
    );
    for (const c of counters) for (const v of Object.values(c.args)) assert.equal(typeof v, 'number');
  });
});
