import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { presetConfig } from '../engine/families/bert/presets.js';
import { loadOptimalSolver, planOptimal } from '../engine/families/bert/plan/optimal.js';
import { surrogateValue } from '../engine/families/bert/plan/surrogate.js';
import { bertPlan, type Plan, type ShardPlan } from '../engine/families/bert/plan/plan.js';
import { plannerNames, runPlanner } from '../engine/families/bert/plan/planners.js';
import { layerTimeMs, planSti, type PlannerInput } from '../engine/families/bert/plan/sti.js';
import { CostModel, resolveSettings } from '../engine/soc/cost.js';
import { sliceWeightBytes } from '../engine/families/bert/cost.js';
import { getSocProfile } from '../engine/soc/load.js';

const c = presetConfig('bert-base');
const shape = { hidden: c.hidden, heads: c.heads, headDim: c.headDim, ffnPerSlice: c.ffnPerSlice };
const BITS = [2, 3, 4, 5, 6, 32];

before(loadOptimalSolver);

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
      o.plan.units.filter((s) => s.layer === 0).every((s) => s.preload),
      'layer 0 preloaded',
    );
  }
  assert.equal(previous, 144, 'the full model fits a generous target');
});

test('on a GPU, where decompression is a stage of its own, STI and optimal plans still meet the target', () => {
  for (const t of [60, 120, 250, 400]) {
    for (const plan of [planSti, planOptimal]) {
      const o = plan(input('jetson-nano-gpu', t, 1024));
      assert.equal(o.overshootMs, 0, `${plan.name} T=${t}: ${o.predicted.makespanUs / 1000} ms`);
    }
  }
});

test('spare buffer room holds later shards at the base bitwidth, never pinned below what streaming gets', () => {
  for (const t of [600, 1000, 1500]) {
    const o = planSti(input('odroid-n2plus', t, 12 * 1024));
    const spare = o.plan.units.filter((s) => s.preload && s.layer > 0);
    const streamed = o.plan.units.filter((s) => !s.preload);
    assert.ok(spare.length > 0, `T=${t}: room beyond layer 0 is used`);
    assert.ok(Math.min(...spare.map((s) => s.bits)) >= Math.min(...streamed.map((s) => s.bits)), `T=${t}`);
  }
});

test('STI upgrades the most important shards first', () => {
  const importance = Array.from({ length: 12 }, () => Array.from({ length: 12 }, (_, s) => (s === 0 ? 1 : 0)));
  const o = planSti(input('jetson-nano-gpu', 400, 1024, importance));
  const streamed = o.plan.units.filter((s) => !s.preload);
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
    assert.ok(o.plan.units.length === o.plan.layers * o.plan.slices);
  }
  const stdpl = runPlanner('stdpl-32', input('odroid-n2plus', 800, 0));
  assert.ok(stdpl.predicted.stallUs > 0);
  const hold = runPlanner('hold-32', input('odroid-n2plus', 800, 0));
  assert.equal(hold.predicted.stallUs, 0);
  assert.ok(hold.plan.units.every((s) => s.preload));
});

/** STI's constraints, written out again: the buffer's capacity and every layer's accumulated IO budget. */
function keepsBudgets(i: PlannerInput, p: Plan): boolean {
  const bytes = (s: ShardPlan) => i.bytesOf(s.layer, s.slice, s.bits);
  if (p.units.filter((s) => s.preload).reduce((a, s) => a + bytes(s), 0) > i.bufferBytes) return false;
  const tLayer = layerTimeMs(i, p.slices);
  let io = 0;
  for (let k = 0; k < p.layers; k++) {
    io += p.units.filter((s) => s.layer === k && !s.preload).reduce((a, s) => a + i.cost.ioMs(bytes(s)), 0);
    if (io > i.targetMs - (p.layers - k) * tLayer + 1e-6) return false;
  }
  return true;
}

test('optimal matches a brute-force search over every bits-and-preload assignment of a small instance', () => {
  const err: Record<number, number> = { 2: 0.34, 4: 0.1, 32: 0 };
  const importance = [
    [0.9, 0.1],
    [0.5, 0.7],
  ];
  const i: PlannerInput = {
    ...input('odroid-n2plus', 0, 0),
    layers: 2,
    slices: 2,
    bits: [2, 4, 32],
    minLayers: 2,
    minSlices: 2,
    importance,
    relativeError: (_l, _s, b) => err[b],
  };
  const tLayer = layerTimeMs(i, 2);
  // A target and buffer where the choice matters: some fp32, not all.
  i.targetMs = 2 * tLayer + 2 * i.cost.ioMs(i.bytesOf(0, 0, 32));
  i.bufferBytes = i.bytesOf(0, 0, 4) + i.bytesOf(0, 0, 2);
  const options = i.bits.flatMap((bits) => [false, true].map((preload) => ({ bits, preload })));
  let best = -Infinity;
  for (let code = 0; code < options.length ** 4; code++) {
    const shards = [0, 1, 2, 3].map((k) => ({
      layer: k >> 1,
      slice: k & 1,
      ...options[Math.floor(code / options.length ** k) % options.length],
    }));
    const plan: Plan = bertPlan('brute', 2, 2, shards);
    if (keepsBudgets(i, plan)) best = Math.max(best, surrogateValue(i, plan));
  }
  const o = planOptimal(i);
  assert.ok(keepsBudgets(i, o.plan));
  assert.ok(Math.abs(surrogateValue(i, o.plan) - best) < 1e-9, `optimal ${surrogateValue(i, o.plan)} vs brute force ${best}`);
  assert.ok(surrogateValue(i, o.plan) >= surrogateValue(i, planSti(i).plan) - 1e-12);
});

test("optimal keeps every budget, picks STI's submodel and is never below STI's greedy on its objective", () => {
  const importance = Array.from({ length: 12 }, (_, l) => Array.from({ length: 12 }, (_, s) => ((l * 7 + s * 3) % 11) / 11));
  const relativeError = (_l: number, _s: number, b: number) => (b === 32 ? 0 : 0.68 / 2 ** (b - 1));
  for (const [t, buf] of [
    [500, 1024],
    [1000, 2048],
  ]) {
    const i = { ...input('odroid-n2plus', t, buf, importance), relativeError };
    const greedy = planSti(i);
    const o = planOptimal(i);
    assert.equal(o.overshootMs, 0);
    assert.ok(keepsBudgets(i, o.plan), `T=${t}`);
    assert.deepEqual([o.plan.layers, o.plan.slices], [greedy.plan.layers, greedy.plan.slices]);
    assert.ok(surrogateValue(i, o.plan) >= surrogateValue(i, greedy.plan) - 1e-9);
  }
});
