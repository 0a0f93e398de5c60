import assert from 'node:assert/strict';
import { test } from 'node:test';
import { presetConfig } from '../engine/model/bert/presets.js';
import { plannerNames, runPlanner } from '../engine/plan/planners.js';
import { planSti, type PlannerInput } from '../engine/plan/sti.js';
import { CostModel, resolveSettings, sliceWeightBytes } from '../engine/soc/cost.js';
import { getSocProfile } from '../engine/soc/load.js';

const c = presetConfig('bert-base');
const shape = { hidden: c.hidden, heads: c.heads, headDim: c.headDim, ffnPerSlice: c.ffnPerSlice };
const BITS = [2, 3, 4, 5, 6, 32];

function input(soc: string, targetMs: number, bufferKb: number, importance?: number[][]): PlannerInput {
  const p = getSocProfile(soc);
  // Stored size: the payload at b bits plus 1 % for dictionaries, outliers and headers.
  const bytesOf = (_l: number, _s: number, b: number) => Math.round(((sliceWeightBytes(shape) * b) / 32) * (b === 32 ? 1 : 1.01));
  return {
    cost: new CostModel(p, resolveSettings(p)),
    shape,
    layers: 12,
    slices: 12,
    seq: 128,
    bits: BITS,
    bytesOf,
    targetMs,
    bufferBytes: bufferKb * 1024,
    importance,
  };
}

test('STI meets every feasible target on bert-base without stalls, growing the submodel with the target', () => {
  let previous = 0;
  for (const t of [300, 500, 800, 1000, 1500, 2500]) {
    const o = planSti(input('odroid-n2plus', t, 2048));
    assert.equal(o.overshootMs, 0, `T=${t}: ${o.predicted.makespanUs / 1000} ms`);
    assert.ok(o.predicted.makespanUs / 1000 <= t);
    const size = o.plan.layers * o.plan.slices;
    assert.ok(size >= previous, `T=${t}`);
    previous = size;
    assert.ok(
      o.plan.shards.filter((s) => s.layer === 0).every((s) => s.preload),
      'layer 0 preloaded',
    );
  }
  assert.equal(previous, 144, 'the full model fits a generous target');
});

test('STI upgrades the most important shards first', () => {
  const importance = Array.from({ length: 12 }, () => Array.from({ length: 12 }, (_, s) => (s === 0 ? 1 : 0)));
  const o = planSti(input('jetson-nano-gpu', 400, 1024, importance));
  const streamed = o.plan.shards.filter((s) => !s.preload);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const important = streamed.filter((s) => s.slice === 0).map((s) => s.bits);
  const rest = streamed.filter((s) => s.slice !== 0).map((s) => s.bits);
  assert.ok(mean(important) > mean(rest), `${mean(important)} vs ${mean(rest)}`);
});

test('when nothing fits, the smallest submodel is planned and the overshoot is reported', () => {
  const o = planSti(input('rpi4-sd', 20, 0));
  assert.equal(o.plan.layers, 3);
  assert.equal(o.plan.slices, 3);
  assert.ok(o.overshootMs > 0);
});

test('every named planner produces a plan for the same executor', () => {
  for (const name of plannerNames(BITS)) {
    const o = runPlanner(name, input('odroid-n2plus', 800, 512));
    assert.equal(o.plan.planner, name);
    assert.ok(o.plan.shards.length === o.plan.layers * o.plan.slices);
  }
  const stdpl = runPlanner('stdpl-32', input('odroid-n2plus', 800, 0));
  assert.ok(stdpl.predicted.stallUs > 0);
  const hold = runPlanner('hold-32', input('odroid-n2plus', 800, 0));
  assert.equal(hold.predicted.stallUs, 0);
  assert.ok(hold.plan.shards.every((s) => s.preload));
});
