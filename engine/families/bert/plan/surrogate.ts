/**
 * The planners' stated surrogate for accuracy: Σ w(l,s) · (1 − e(l,s,b)), where w is the shard's profiled
 * importance (shifted to be positive; 1 for every shard without a profile) and e the shard's measured
 * relative reconstruction error ||w − ŵ|| / ||w|| at b bits (0 for fp32). `optimal` maximizes it exactly;
 * `sti-plus` uses it to choose between two greedy plans. Sweeps score every plan with the real oracle.
 */
import type { Plan } from './plan.js';
import type { PlannerInput } from './sti.js';

/** Importance weights shifted so the least important shard still counts a little. */
export function weights(input: PlannerInput): (l: number, s: number) => number {
  const imp = input.importance;
  if (!imp) return () => 1;
  // Math.min and Math.max over every score (forEach skips holes as flat() would), without spreading them.
  let min = Infinity;
  let max = -Infinity;
  imp.forEach((row) =>
    row.forEach((x) => {
      min = Math.min(min, x);
      max = Math.max(max, x);
    }),
  );
  const eps = Math.max((max - min) * 0.01, 1e-6);
  return (l, s) => imp[l][s] - min + eps;
}

/** The surrogate objective of a plan: higher is better. */
export function surrogateValue(input: PlannerInput, plan: Plan): number {
  const w = weights(input);
  const err = input.relativeError ?? (() => 0);
  return plan.units.reduce((a, s) => a + w(s.layer, s.slice) * (1 - err(s.layer, s.slice, s.bits)), 0);
}
