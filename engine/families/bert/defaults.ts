/** The bert family's constants that light modules (its family entry, the CLI's help) share. */
import type { PlannerInfo } from '../family.js';

/** STI's three execution paradigms (§9): load-then-execute, layerwise pipelining, hold in memory. */
export const PARADIGMS = ['load-exec', 'layerwise', 'hold'] as const;
export type Paradigm = (typeof PARADIGMS)[number];

/** Tokens of a request unless the user sets another length (STI's evaluation length). */
export const DEFAULT_SEQ = 128;

/** Every bert planner, the default first: the one list the CLI's help, the planner names and the ranking rule read. */
export const PLANNERS: PlannerInfo[] = [
  {
    name: 'sti',
    description: "STI's planner: largest submodel that fits, preload layer 0 first, AIB bitwidths, importance upgrades",
    ranks: true,
  },
  { name: 'sti-plus', description: 'STI that may also move preloaded shards up, choosing between two preload policies', ranks: true },
  { name: 'optimal', description: 'the exact 0/1 program (HiGHS) on the importance-weighted fidelity surrogate', ranks: true },
  { name: 'sti-nobuffer', description: 'STI without a preload buffer (ablation)', ranks: true },
  { name: 'sti-uniform', description: 'STI without importance upgrades: one bitwidth for every shard (ablation)' },
  { name: 'submodel', description: 'the elastic submodel alone at fp32, layerwise pipelined (baseline)' },
  { name: 'load-exec-B', description: 'load every shard at B bits, then execute (baseline)' },
  { name: 'stdpl-B', description: 'standard layerwise pipelining at B bits (baseline)' },
  { name: 'hold-B', description: 'the whole model held in memory at B bits (baseline)' },
];
