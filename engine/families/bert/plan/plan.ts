/**
 * BERT plans: the submodel (layers x slices), every shard's bitwidth, which shards sit in the preload
 * buffer, and how IO relates to compute, as the generic Plan (pipeline/plan.ts) whose units are shards.
 */
import { codecOfBits, type Plan, type PlanUnit } from '../../../pipeline/plan.js';
import type { Configuration } from '../configuration.js';
import { PARADIGMS, type Paradigm } from '../defaults.js';

export type { Plan, PlanUnit };

/** A shard as the planners work on it (its codec follows from its bits when the plan is made). */
export interface ShardPlan {
  layer: number;
  slice: number;
  bits: number;
  /** Resident in the preload buffer before the request starts (persistent memory). */
  preload: boolean;
}

/** A BERT plan over shards in layer-major, slice order (the order the IO stage streams them). */
export function bertPlan(planner: string, layers: number, slices: number, shards: ShardPlan[], loadAllFirst = false): Plan {
  const units = shards.map((s) => ({ layer: s.layer, slice: s.slice, bits: s.bits, preload: s.preload, codec: codecOfBits(s.bits) }));
  return { family: 'bert', planner, layers, slices, units, loadAllFirst };
}

export { PARADIGMS, type Paradigm };

export function planFromConfiguration(
  planner: string,
  c: Configuration,
  opts: { preloadAll?: boolean; loadAllFirst?: boolean } = {},
): Plan {
  const shards: ShardPlan[] = [];
  for (let l = 0; l < c.layers; l++)
    for (let s = 0; s < c.slices; s++) shards.push({ layer: l, slice: s, bits: c.bits[l][s], preload: !!opts.preloadAll });
  return bertPlan(planner, c.layers, c.slices, shards, !!opts.loadAllFirst);
}

/** STI's three execution paradigms over a configuration (§9): load-then-execute, layerwise pipelining, hold in memory. */
export function paradigmPlan(p: Paradigm, c: Configuration): Plan {
  const bits = c.bits[0]?.[0] ?? 32;
  const name = `${p}-${c.bits.flat().every((b) => b === bits) ? bits : 'mixed'}`;
  if (p === 'load-exec') return planFromConfiguration(name, c, { loadAllFirst: true });
  if (p === 'hold') return planFromConfiguration(name, c, { preloadAll: true });
  return planFromConfiguration(name, c);
}

/** Fills a preload buffer of `capacity` bytes in layer order (layer 0 first), keeping shards that fit. */
export function fillPreload(plan: Plan, bytesOf: (s: ShardPlan) => number, capacity: number): Plan {
  let used = 0;
  const units = plan.units.map((s) => {
    if (s.preload) used += bytesOf(s);
    return { ...s };
  });
  for (const s of units) {
    if (s.preload) continue;
    const b = bytesOf(s);
    if (used + b > capacity) break;
    s.preload = true;
    used += b;
  }
  return { ...plan, units };
}

export function configurationOf(plan: Plan): Configuration {
  const bits = Array.from({ length: plan.layers }, () => Array<number>(plan.slices).fill(32));
  for (const s of plan.units) bits[s.layer][s.slice] = s.bits;
  return { layers: plan.layers, slices: plan.slices, bits };
}
