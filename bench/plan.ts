/**
 * Planning time, warm and in-process: every planner runs many times at every point of a grid (model shape
 * × SoC × target × preload buffer) and its median and 99th percentile are printed beside its budget
 * (issue 16: STI and its ablations 0.1 ms median and 1 ms p99, sti-plus 1 ms median, optimal 1 s median on
 * bert-base). Shard sizes follow STI's arithmetic (reference/sti.md §2: 2.36 MB per fp32 slice of
 * bert-base, b/32 of it at b bits, plus 1 % for dictionaries and outliers); the importance grid is a fixed
 * pattern. Each SoC's three targets span tight to loose: 1.25 × the smallest submodel's compute time, the
 * geometric mean of it and the full model's, and 1.5 × the full model's. The process is warmed up over the
 * whole grid first (warmUpGrid), and what that cold start costs is printed too. Requests share one cost model
 * per SoC and one bytesOf and importance grid per model, as the workbench's and a sweep's do, so the planners'
 * kept tables (shard-costs.ts) are filled once per SoC and model, not at every point.
 *
 *   npm run bench:plan -- [--rounds R] [--optimal-rounds R] [--models bert-base,bert-large]
 *                         [--optimal-models bert-base] [--socs a,b] [--buffers 0,320] [--planners sti,optimal]
 *                         [--dump plans.json]
 *
 * A point's p99 is its 1000 runs' tenth slowest (--rounds, default 1000). With 200 runs it was the second slowest,
 * an estimate of the 99.5th percentile that one pair of slow runs (two collections, or a collection and a scheduler
 * hiccup on this shared machine) put over budget at a random point in some runs and not others.
 *
 * --dump writes every plan the grid produced (bits and preload per shard, surrogate, makespan), so two
 * versions of the planners can be compared plan for plan.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { presetConfig, type ShapePreset } from '../engine/families/bert/presets.js';
import { loadOptimalSolver } from '../engine/families/bert/plan/optimal.js';
import { runPlanner } from '../engine/families/bert/plan/planners.js';
import { surrogateValue } from '../engine/families/bert/plan/surrogate.js';
import { layerTimeMs, type PlannerInput, type PlanOutcome } from '../engine/families/bert/plan/sti.js';
import { costModelOf, resolveSettings } from '../engine/soc/cost.js';
import { sliceWeightBytes } from '../engine/families/bert/cost.js';
import { getSocProfile } from '../engine/soc/load.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1000' },
    'optimal-rounds': { type: 'string', default: '3' },
    models: { type: 'string', default: 'bert-base,bert-large' },
    'optimal-models': { type: 'string', default: 'bert-base' },
    socs: { type: 'string', default: 'odroid-n2plus,jetson-nano-gpu,jetson-orin-nano-gpu,pixel7,rpi4-sd' },
    buffers: { type: 'string', default: '0,320,2048' },
    planners: { type: 'string', default: 'sti,sti-uniform,sti-nobuffer,sti-plus,optimal' },
    dump: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const optimalRounds = Number(values['optimal-rounds']);
const list = (s: string) => s.split(',').filter(Boolean);
const models = list(values.models) as ShapePreset[];
const optimalModels = list(values['optimal-models']);
const socs = list(values.socs);
const buffersKb = list(values.buffers).map(Number);
const BITS = [2, 3, 4, 5, 6, 32];
const PLANNERS = list(values.planners);

/** Budgets, ms: the median's, and the 99th percentile's where there is one. */
const BUDGET: Record<string, { median: number; p99?: number }> = {
  sti: { median: 0.1, p99: 1 },
  'sti-uniform': { median: 0.1, p99: 1 },
  'sti-nobuffer': { median: 0.1, p99: 1 },
  'sti-plus': { median: 1 },
  optimal: { median: 1000 },
};

/** One importance grid per model, as a stored profile is. */
const importanceOf = new Map<ShapePreset, number[][]>();

function importance(model: ShapePreset): number[][] {
  const shape = presetConfig(model);
  let grid = importanceOf.get(model);
  if (!grid)
    importanceOf.set(
      model,
      (grid = Array.from({ length: shape.layers }, (_, l) => Array.from({ length: shape.slices }, (_, s) => ((l * 7 + s * 3) % 11) / 11))),
    );
  return grid;
}

/** One function of shard bytes per model, as a store has (request.ts): the planners keep their tables per bytesOf. */
const bytesOfModel = new Map<ShapePreset, PlannerInput['bytesOf']>();

function bytesOf(model: ShapePreset): PlannerInput['bytesOf'] {
  const slice = sliceWeightBytes(presetConfig(model));
  let f = bytesOfModel.get(model);
  if (!f) bytesOfModel.set(model, (f = (_l, _s, b) => Math.round(((slice * b) / 32) * (b === 32 ? 1 : 1.01))));
  return f;
}

/** A point's request: one cost model per SoC (costModelOf, as the workbench and a sweep keep), one importance grid per model. */
function input(model: ShapePreset, soc: string, targetMs: number, bufferKb: number): PlannerInput {
  const shape = presetConfig(model);
  const p = getSocProfile(soc);
  return {
    cost: costModelOf(p, resolveSettings(p)),
    shape,
    layers: shape.layers,
    slices: shape.slices,
    seq: 128,
    bits: BITS,
    bytesOf: bytesOf(model),
    relativeError: (_l, _s, b) => (b === 32 ? 0 : 0.68 / 2 ** (b - 1)),
    targetMs,
    bufferBytes: bufferKb * 1024,
    importance: importance(model),
  };
}

/** Tight, middle and loose targets from the range of compute times of the submodels STI considers. */
function targets(model: ShapePreset, soc: string): number[] {
  const i = input(model, soc, 0, 0);
  const lo = Math.round(i.layers / 4) * layerTimeMs(i, Math.round(i.slices / 4));
  const hi = i.layers * layerTimeMs(i, i.slices);
  const round2 = (x: number) => Number(x.toPrecision(2));
  return [round2(1.25 * lo), round2(Math.sqrt(lo * hi)), round2(1.5 * hi)];
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

function time(planner: string, i: PlannerInput): { times: number[]; outcome: PlanOutcome } {
  const n = planner === 'optimal' ? optimalRounds : rounds;
  if (planner !== 'optimal') for (let k = 0; k < 50; k++) runPlanner(planner, i); // warm-up (JIT)
  const times: number[] = [];
  let outcome: PlanOutcome | undefined;
  for (let k = 0; k < n; k++) {
    const t0 = performance.now();
    outcome = runPlanner(planner, i);
    times.push(performance.now() - t0);
  }
  return { times, outcome: outcome! };
}

const ms = (x: number) => (x < 10 ? x.toFixed(3) : x.toFixed(0));

let sink: unknown;
/** One run of the floor: about what a bert-large STI plan allocates (~55 KB of small objects: V8's sampling heap profiler), nothing else. */
function allocateOnly(): void {
  const events = new Array(150);
  for (let i = 0; i < 150; i++) events[i] = { stage: 'io', layer: i, slice: i & 15, bits: 4, bytes: i * 3, start: i * 1.5, end: i * 2.5 };
  const small: { x: number; y: number }[] = [];
  for (let i = 0; i < 500; i++) small.push({ x: i * 0.5, y: i });
  sink = [events, small];
}

/**
 * The machine's floor for a p99: runs that only allocate what a large plan does, timed as a point is (the
 * same runs per point, as many points). Their slow runs are the young generation's collections.
 */
function allocationFloor(points: number): { median: number; over: number; worstP99: number } {
  for (let k = 0; k < 5000; k++) allocateOnly();
  const medians: number[] = [];
  let over = 0;
  let worstP99 = 0;
  for (let p = 0; p < points; p++) {
    const times: number[] = [];
    for (let k = 0; k < rounds; k++) {
      const t0 = performance.now();
      allocateOnly();
      times.push(performance.now() - t0);
    }
    const p99 = quantile(times, 0.99);
    medians.push(quantile(times, 0.5));
    if (p99 > 1) over++;
    worstP99 = Math.max(worstP99, p99);
  }
  void sink;
  return { median: quantile(medians, 0.5), over, worstP99 };
}
const worst: Record<string, { median: number; p99: number; at: string; medians: number[]; p99s: number[] }> = {};
const dump: unknown[] = [];

/**
 * The process warms up once over the whole grid before anything is timed: V8 tiers the planners' code up
 * and grows its young generation over the first few thousand plans, and a point timed during that (the
 * grid's first points) would measure the process's start rather than planning. What that start costs a
 * user (the first plan in a fresh process, and the warm-up pass's plans) is printed beside it.
 */
function warmUpGrid(): void {
  const times: number[] = [];
  for (const model of models)
    for (const soc of socs)
      for (const t of targets(model, soc))
        for (const kb of buffersKb)
          for (const planner of PLANNERS) {
            if (planner === 'optimal') continue;
            const i = input(model, soc, t, kb);
            for (let k = 0; k < WARM_UP_PER_POINT; k++) {
              const t0 = performance.now();
              runPlanner(planner, i);
              times.push(performance.now() - t0);
            }
          }
  if (!times.length) return;
  console.log(
    `cold process: first plan ${ms(times[0])} ms; the warm-up pass's ${times.length} plans (all points, ${WARM_UP_PER_POINT} each, untimed below): ` +
      `median ${ms(quantile(times, 0.5))} ms, p99 ${ms(quantile(times, 0.99))} ms, max ${ms(Math.max(...times))} ms`,
  );
}
const WARM_UP_PER_POINT = 50;

await loadOptimalSolver();
console.log(
  `planning time, warm, in-process: ${rounds} runs per point (optimal: ${optimalRounds}, on ${optimalModels.join(', ')}), after 50 warm-up runs (none for optimal)`,
);
console.log(`grid: ${models.join(', ')} × ${socs.join(', ')} × 3 targets each × buffers ${buffersKb.join(', ')} KB`);
warmUpGrid();
console.log('budgets, ms: ' + PLANNERS.map((p) => `${p} ${BUDGET[p].median}${BUDGET[p].p99 ? ` (p99 ${BUDGET[p].p99})` : ''}`).join(', '));
console.log('model       soc                   target  buf KB  planner         median ms    p99 ms  median/budget  n×m     predicted ms');
for (const model of models)
  for (const soc of socs)
    for (const t of targets(model, soc))
      for (const kb of buffersKb)
        for (const planner of PLANNERS) {
          if (planner === 'optimal' && !optimalModels.includes(model)) continue;
          const i = input(model, soc, t, kb);
          const { times, outcome } = time(planner, i);
          const med = quantile(times, 0.5);
          const p99 = quantile(times, 0.99);
          const at = `${model} ${soc} ${t} ms ${kb} KB`;
          const w = (worst[planner] ??= { median: 0, p99: 0, at, medians: [], p99s: [] });
          w.medians.push(med);
          w.p99s.push(p99);
          if (med > w.median) Object.assign(w, { median: med, at });
          w.p99 = Math.max(w.p99, p99);
          const { plan, predicted } = outcome;
          console.log(
            `${model.padEnd(11)} ${soc.padEnd(20)} ${String(t).padStart(7)} ${String(kb).padStart(7)}  ${planner.padEnd(13)} ${ms(med).padStart(11)} ${ms(p99).padStart(9)} ${(med / BUDGET[planner].median).toFixed(2).padStart(14)}  ${`${plan.layers}×${plan.slices}`.padEnd(7)} ${(predicted.makespanUs / 1000).toFixed(1).padStart(12)}`,
          );
          if (values.dump)
            dump.push({
              model,
              soc,
              targetMs: t,
              bufferKb: kb,
              planner,
              surrogate: surrogateValue(i, plan),
              makespanUs: predicted.makespanUs,
              overshootMs: outcome.overshootMs,
              layers: plan.layers,
              slices: plan.slices,
              units: plan.units.map((u) => `${u.bits}${u.preload ? 'p' : ''}`).join(' '),
            });
        }

console.log('\nsummary over the grid (worst point in brackets; "typical" is the median of the points\' medians)');
for (const p of PLANNERS) {
  const w = worst[p];
  if (!w) continue;
  const b = BUDGET[p];
  const meets = w.median <= b.median && (b.p99 === undefined || w.p99 <= b.p99);
  const over = w.medians.filter((x) => x > b.median).length;
  const p99Over = b.p99 === undefined ? '' : `, p99 over budget at ${w.p99s.filter((x) => x > b.p99!).length}`;
  console.log(
    `${p.padEnd(13)} worst median ${ms(w.median)} ms [${w.at}], worst p99 ${ms(w.p99)} ms, typical ${ms(quantile(w.medians, 0.5))} ms; ` +
      `budget ${b.median} ms median${b.p99 ? `, ${b.p99} ms p99` : ''}: ${meets ? 'met' : `NOT met (median over budget at ${over}${p99Over} of ${w.medians.length} points)`}`,
  );
}
const timedPoints = Math.max(0, ...PLANNERS.filter((p) => p !== 'optimal').map((p) => worst[p]?.medians.length ?? 0));
if (timedPoints) {
  const f = allocationFloor(timedPoints);
  console.log(
    `floor: a loop that only allocates what a bert-large plan does (~55 KB of small objects a run), ${rounds} runs × ${timedPoints} points: ` +
      `median ${ms(f.median)} ms, p99 over 1 ms at ${f.over} of ${timedPoints} points (worst ${ms(f.worstP99)} ms): collections alone`,
  );
}
if (values.dump) writeFileSync(values.dump, JSON.stringify(dump, null, 1));
