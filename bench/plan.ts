/**
 * Planning time for a 12 × 12 (bert-base) shard grid, warm: each planner runs many times per target and
 * SoC, and the median and 99th percentile are printed next to the 1 ms budget (issue 5) and to the
 * request's own predicted latency, measured in the same run. Shard sizes follow STI's arithmetic
 * (reference/sti.md §2: 2.36 MB per fp32 slice, b/32 of it at b bits, plus 1 % for dictionaries and
 * outliers); the importance grid is a fixed pattern. `optimal` is timed too, for scale (it is exact, not
 * meant to be interactive).
 *
 *   npm run bench:plan -- [--rounds R]
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { presetConfig } from '../engine/families/bert/presets.js';
import { loadOptimalSolver } from '../engine/families/bert/plan/optimal.js';
import { runPlanner } from '../engine/families/bert/plan/planners.js';
import type { PlannerInput } from '../engine/families/bert/plan/sti.js';
import { CostModel, resolveSettings } from '../engine/soc/cost.js';
import { sliceWeightBytes } from '../engine/families/bert/cost.js';
import { getSocProfile } from '../engine/soc/load.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '400' } } });
const rounds = Number(values.rounds);
const shape = presetConfig('bert-base');
const BITS = [2, 3, 4, 5, 6, 32];
const importance = Array.from({ length: 12 }, (_, l) => Array.from({ length: 12 }, (_, s) => ((l * 7 + s * 3) % 11) / 11));

function input(soc: string, targetMs: number, bufferKb: number): PlannerInput {
  const p = getSocProfile(soc);
  return {
    cost: new CostModel(p, resolveSettings(p)),
    shape,
    layers: 12,
    slices: 12,
    seq: 128,
    bits: BITS,
    bytesOf: (_l, _s, b) => Math.round(((sliceWeightBytes(shape) * b) / 32) * (b === 32 ? 1 : 1.01)),
    relativeError: (_l, _s, b) => (b === 32 ? 0 : 0.68 / 2 ** (b - 1)),
    targetMs,
    bufferBytes: bufferKb * 1024,
    importance,
  };
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

await loadOptimalSolver();
console.log(`planning a 12 x 12 grid (bert-base shape), warm, ${rounds} runs per point; budget 1 ms`);
console.log('soc              target ms  planner        median ms  p99 ms  median / 1 ms  median / predicted latency');
for (const [soc, targets] of [
  ['odroid-n2plus', [400, 800, 1500]],
  ['jetson-nano-gpu', [150, 400, 800]],
] as const)
  for (const t of targets)
    for (const planner of ['sti', 'sti-uniform', 'sti-nobuffer', 'optimal']) {
      const i = input(soc, t, 2048);
      const n = planner === 'optimal' ? 3 : rounds;
      for (let k = 0; k < Math.min(n, 50); k++) runPlanner(planner, i); // warm-up (JIT)
      const times: number[] = [];
      let predictedMs = 0;
      for (let k = 0; k < n; k++) {
        const t0 = performance.now();
        const o = runPlanner(planner, i);
        times.push(performance.now() - t0);
        predictedMs = o.predicted.makespanUs / 1000;
      }
      const med = quantile(times, 0.5);
      console.log(
        `${soc.padEnd(16)} ${String(t).padStart(9)}  ${planner.padEnd(13)} ${med.toFixed(3).padStart(10)} ${quantile(times, 0.99).toFixed(3).padStart(7)} ${med.toFixed(3).padStart(14)} ${(med / predictedMs).toExponential(2).padStart(27)}`,
      );
    }
