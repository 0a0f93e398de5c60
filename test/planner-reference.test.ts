/**
 * The fast STI planner (sti.ts, sti-submodel.ts, shard-costs.ts) against the straightforward computation it
 * replaced, kept here as the reference: the same plan, shard for shard, on random inputs (SoCs, targets,
 * buffers, grid sizes, bitwidth sets, uneven shard sizes, importance with ties) under every option set the
 * planners use.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { presetConfig } from '../engine/families/bert/presets.js';
import { bertPlan, type Plan, type ShardPlan } from '../engine/families/bert/plan/plan.js';
import {
  budgetMs,
  outcome,
  layerTimeMs,
  planSti,
  submodelCandidates,
  type PlannerInput,
  type StiOptions,
} from '../engine/families/bert/plan/sti.js';
import { computeLayer, sliceWeightBytes } from '../engine/families/bert/cost.js';
import { CostModel, resolveSettings } from '../engine/soc/cost.js';
import { getSocProfile } from '../engine/soc/load.js';
import { seededRandom } from '../engine/families/rwkv/generate.js';

// ---- The reference: STI as first written (one object per shard, every sum and sort recomputed). ----

function referenceCandidates(input: PlannerInput): { layers: number; slices: number; fits: boolean }[] {
  const minN = input.minLayers ?? Math.max(1, Math.round(input.layers / 4));
  const minM = input.minSlices ?? Math.max(1, Math.round(input.slices / 4));
  const out: { layers: number; slices: number; work: number; fits: boolean }[] = [];
  for (let n = minN; n <= input.layers; n++)
    for (let m = minM; m <= input.slices; m++) {
      const t = layerTimeMs(input, m);
      out.push({
        layers: n,
        slices: m,
        work: n * computeLayer(input.cost, input.shape, m, input.seq).flops,
        fits: n * t <= input.targetMs,
      });
    }
  return out.sort((a, b) => Number(b.fits) - Number(a.fits) || b.work - a.work || b.layers - a.layers);
}

interface Budget {
  slack: number[];
}

/** AIB slack per layer for the shards of a plan. */
function budget(input: PlannerInput, shards: ShardPlan[], layers: number, tLayer: number): Budget {
  const io = new Array<number>(layers).fill(0);
  for (const s of shards) io[s.layer] += budgetMs(input, s);
  const slack: number[] = [];
  let sum = 0;
  for (let k = 0; k < layers; k++) {
    sum += io[k];
    slack.push(input.targetMs - (layers - k) * tLayer - sum);
  }
  return { slack };
}

const feasible = (b: Budget) => b.slack.every((x) => x >= -1e-9);
type Order = (a: ShardPlan, b: ShardPlan) => number;

/** Pass 2: in importance order, each streamed shard jumps to the highest rung every budget allows. */
function upgradeStreamed(input: PlannerInput, shards: ShardPlan[], n: number, tLayer: number, order: Order): void {
  const slack = budget(input, shards, n, tLayer).slack;
  const rungs = [...input.bits].sort((a, b) => b - a);
  for (const s of shards.filter((x) => !x.preload).sort(order)) {
    const headroom = Math.min(...slack.slice(s.layer));
    const current = budgetMs(input, s);
    const rung = rungs.find((b) => b > s.bits && budgetMs(input, { ...s, bits: b }) - current <= headroom + 1e-9);
    if (rung === undefined) continue;
    const delta = budgetMs(input, { ...s, bits: rung }) - current;
    s.bits = rung;
    for (let k = s.layer; k < n; k++) slack[k] -= delta;
  }
}

/** sti-plus (see StiOptions.revisitPreload); two rounds settle every case measured. */
function revisitPreload(input: PlannerInput, shards: ShardPlan[], n: number, tLayer: number, order: Order, room: number): void {
  const bytes = (s: ShardPlan, bits = s.bits) => input.bytesOf(s.layer, s.slice, bits);
  const rungs = [...input.bits].sort((a, b) => b - a);
  for (let round = 0; round < 2; round++) {
    const slack = budget(input, shards, n, tLayer).slack;
    for (const s of shards.filter((x) => x.preload).sort(order)) {
      const headroom = Math.min(...slack.slice(s.layer));
      const current = budgetMs(input, s);
      for (const b of rungs.filter((r) => r > s.bits)) {
        if (bytes(s, b) - bytes(s) <= room) {
          room -= bytes(s, b) - bytes(s);
          const delta = budgetMs(input, { ...s, bits: b }) - current;
          for (let k = s.layer; k < n; k++) slack[k] -= delta;
          s.bits = b;
          break;
        }
        const delta = budgetMs(input, { ...s, bits: b, preload: false }) - current;
        if (delta <= headroom + 1e-9) {
          room += bytes(s);
          for (let k = s.layer; k < n; k++) slack[k] -= delta;
          s.bits = b;
          s.preload = false;
          break;
        }
      }
    }
    for (const s of shards.filter((x) => !x.preload).sort((a, b) => a.layer - b.layer || order(a, b)))
      if (bytes(s) <= room) {
        room -= bytes(s);
        s.preload = true;
      }
    upgradeStreamed(input, shards, n, tLayer, order);
  }
}

/** Plans one submodel; returns undefined when 2-bit streaming already breaks the budget. */
function planSubmodel(input: PlannerInput, n: number, m: number, o: StiOptions): Plan | undefined {
  const tLayer = layerTimeMs(input, m);
  const quantized = input.bits.filter((b) => b !== 32).sort((a, b) => a - b);
  const lowest = quantized[0] ?? 32;
  const shards: ShardPlan[] = [];
  for (let l = 0; l < n; l++) for (let s = 0; s < m; s++) shards.push({ layer: l, slice: s, bits: lowest, preload: false });
  const score = (s: ShardPlan) => input.importance?.[s.layer]?.[s.slice] ?? 0;
  const byImportance = (a: ShardPlan, b: ShardPlan) => score(b) - score(a) || a.layer - b.layer || a.slice - b.slice;

  // Preload: layer 0 whole at the highest bitwidth that fits, then spare room to the earliest layers.
  let room = input.bufferBytes;
  const layer0 = o.layer0First === false ? [] : shards.filter((s) => s.layer === 0);
  const b0 = [...input.bits].sort((a, b) => b - a).find((b) => layer0.reduce((a, s) => a + input.bytesOf(0, s.slice, b), 0) <= room);
  for (const s of layer0) {
    const b = b0 ?? lowest;
    if (input.bytesOf(0, s.slice, b) > room) break;
    s.bits = b;
    s.preload = true;
    room -= input.bytesOf(0, s.slice, b);
  }
  // Pass 1: the highest uniform base bitwidth for the other shards that keeps every AIB >= 0, with the spare
  // buffer room holding the earliest layers' shards at that bitwidth, most important first. (Filling the room
  // before the base is known would pin those shards at 2 bits: preloaded shards keep their bitwidth.)
  const withBase = (bits: number) => {
    let left = room;
    const trial = shards.map((s) => (s.preload ? s : { ...s, bits }));
    for (let l = 0; l < n && left > 0; l++)
      for (const s of trial.filter((x) => x.layer === l && !x.preload).sort(byImportance)) {
        const bytes = input.bytesOf(l, s.slice, bits);
        if (bytes <= left) {
          s.preload = true;
          left -= bytes;
        }
      }
    return { trial, left };
  };
  const base = quantized
    .slice()
    .reverse()
    .map(withBase)
    .find((t) => feasible(budget(input, t.trial, n, tLayer)));
  if (!base) return undefined;
  shards.splice(0, shards.length, ...base.trial);
  room = base.left;
  // Pass 2: most important first, jump each shard to the highest rung every budget allows.
  if (o.upgrade) upgradeStreamed(input, shards, n, tLayer, byImportance);
  if (o.revisitPreload) revisitPreload(input, shards, n, tLayer, byImportance, room);
  return bertPlan('sti', n, m, shards);
}

function referencePlan(input: PlannerInput, o: StiOptions): Plan {
  const candidates = referenceCandidates(input);
  let plan: Plan | undefined;
  for (const c of candidates.filter((x) => x.fits)) {
    plan = planSubmodel(input, c.layers, c.slices, o);
    if (plan) break;
  }
  if (!plan) {
    const smallest = candidates.reduce((a, b) => (a.layers * a.slices <= b.layers * b.slices ? a : b));
    plan = planSubmodel(input, smallest.layers, smallest.slices, o) ?? lowestPlan(input, smallest.layers, smallest.slices);
  }
  return plan;
}

function lowestPlan(input: PlannerInput, n: number, m: number): Plan {
  const lowest = Math.min(...input.bits);
  const shards: ShardPlan[] = [];
  for (let l = 0; l < n; l++) for (let s = 0; s < m; s++) shards.push({ layer: l, slice: s, bits: lowest, preload: false });
  let room = input.bufferBytes;
  for (const s of shards.filter((x) => x.layer === 0)) {
    const b = input.bytesOf(0, s.slice, lowest);
    if (b > room) break;
    s.preload = true;
    room -= b;
  }
  return bertPlan('sti', n, m, shards);
}

// ---- Random inputs. ----

const SOCS = ['odroid-n2plus', 'jetson-nano-gpu', 'jetson-orin-nano-gpu', 'pixel7', 'rpi4-sd'];
const BIT_SETS = [[2, 3, 4, 5, 6, 32], [2, 4, 32], [3, 6], [32, 4, 2], [32]];

function randomInput(seed: number): PlannerInput {
  const r = seededRandom(seed); // a failure names its seed
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const shape = presetConfig(pick(['bert-base', 'bert-large'] as const));
  const p = getSocProfile(pick(SOCS));
  const cost = new CostModel(p, resolveSettings(p));
  const layers = 1 + Math.floor(r() * shape.layers);
  const slices = 1 + Math.floor(r() * shape.slices);
  const bits = pick(BIT_SETS);
  // Uneven shard sizes (±5 %), and importance from a few levels so that ties occur.
  const noise = Array.from({ length: layers * slices }, () => 0.95 + 0.1 * r());
  const levels = 1 + Math.floor(r() * 6);
  const importance = Array.from({ length: layers }, () => Array.from({ length: slices }, () => Math.floor(r() * levels) / levels));
  const base: PlannerInput = {
    cost,
    shape,
    layers,
    slices,
    seq: 128,
    bits,
    bytesOf: (l, s, b) => Math.round(((sliceWeightBytes(shape) * b) / 32) * (b === 32 ? 1 : 1.01) * noise[l * slices + s]),
    targetMs: 0,
    bufferBytes: pick([0, 0.3, 2, 8, 40]) * 2 ** 20 * r(),
    importance: r() < 0.9 ? importance : undefined,
  };
  // Targets from below the smallest submodel's compute time to well above the full model's.
  const lo = layerTimeMs(base, 1);
  const hi = layers * layerTimeMs(base, slices);
  return { ...base, targetMs: lo * 0.5 + r() * (hi * 2.5 - lo * 0.5) };
}

const OPTIONS: StiOptions[] = [
  { upgrade: true },
  { upgrade: false },
  { upgrade: true, revisitPreload: true, layer0First: true },
  { upgrade: true, revisitPreload: true, layer0First: false },
];

const shardsOf = (p: Plan) => p.units.map((u) => `${u.layer}.${u.slice}:${u.bits}${u.preload ? 'p' : ''}`).join(' ');

test('the fast STI plans every random input exactly as the reference does, under every option set', () => {
  let stalled = 0;
  let preloadedBeyondLayer0 = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const input = randomInput(seed);
    for (const o of OPTIONS) {
      const want = referencePlan(input, o);
      const got = planSti(input, o);
      const at = `seed ${seed}, ${JSON.stringify(o)}`;
      assert.deepEqual([got.plan.layers, got.plan.slices], [want.layers, want.slices], at);
      assert.equal(shardsOf(got.plan), shardsOf(want), at);
      if (got.overshootMs > 0) stalled++;
      if (got.plan.units.some((u) => u.preload && u.layer > 0)) preloadedBeyondLayer0++;
    }
  }
  // The inputs reach both ends: plans that stall, and buffers that hold more than layer 0.
  assert.ok(stalled > 0 && preloadedBeyondLayer0 > 0, `${stalled} stalled, ${preloadedBeyondLayer0} preload beyond layer 0`);
});

test('submodelCandidates keeps its order', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const input = randomInput(seed);
    assert.deepEqual(
      submodelCandidates(input),
      referenceCandidates(input).map(({ layers, slices, fits }) => ({ layers, slices, fits })),
      `seed ${seed}`,
    );
  }
});

test('tables kept across requests follow the inputs: importance changed in place, new sizes, bitwidths, grids and cost models', () => {
  const o: StiOptions = { upgrade: true, revisitPreload: true, layer0First: true };
  const same = (input: PlannerInput, at: string) => assert.equal(shardsOf(planSti(input, o).plan), shardsOf(referencePlan(input, o)), at);
  for (let seed = 1; seed <= 40; seed++) {
    const input = randomInput(seed);
    same(input, `seed ${seed}`);
    const importance = input.importance ?? Array.from({ length: input.layers }, () => Array<number>(input.slices).fill(0));
    // The same importance arrays, their values changed in place (the most important shards become the least).
    for (const row of importance) row.forEach((x, s) => (row[s] = 1 - x));
    same({ ...input, importance }, `seed ${seed}, importance changed in place`);
    importance[input.layers - 1][input.slices - 1] = 2;
    same({ ...input, importance }, `seed ${seed}, one score changed in place`);
    same({ ...input, importance: undefined }, `seed ${seed}, no importance`);
    // Other sizes under the same cost model; other bitwidths under the same sizes.
    same({ ...input, bytesOf: (l, s, b) => 2 * input.bytesOf(l, s, b) }, `seed ${seed}, sizes doubled`);
    same({ ...input, bits: input.bits.length > 1 ? input.bits.slice(1) : [2, 32] }, `seed ${seed}, other bitwidths`);
    // A smaller grid, then a larger one than the tables were made for.
    same({ ...input, layers: Math.ceil(input.layers / 2), slices: Math.ceil(input.slices / 2) }, `seed ${seed}, half the grid`);
    const wider = input.layers + 2;
    const grown = { ...input, layers: wider, importance: Array.from({ length: wider }, (_, l) => importance[l % input.layers]) };
    same(grown, `seed ${seed}, more layers`);
    // The same sizes under another cost model (storage half as fast).
    const p = input.cost.profile;
    const slower = new CostModel(p, { ...input.cost.settings, ioMBps: p.storage.readMBps.value / 2 });
    same({ ...input, cost: slower }, `seed ${seed}, slower storage`);
  }
});

test("the fast STI's predicted timeline is the cost model's for its plan", () => {
  for (let seed = 1; seed <= 60; seed++) {
    const input = randomInput(seed);
    const got = planSti(input);
    assert.deepEqual(got.predicted, outcome(input, got.plan).predicted, `seed ${seed}`);
  }
});
