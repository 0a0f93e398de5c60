/**
 * A sweep: every combination of SoC × target latency × preload buffer × planner over one model, each
 * planned, executed in virtual time by the real executor, and scored by the family's quality oracle.
 */
import type { TraceEvent } from '../pipeline/trace.js';
import type { StoredSweep, StoredSweepSummary } from '../store/db.js';

export interface SweepSpec {
  /** Checkpoint directory or shard store, as given. */
  model: string;
  socs: string[];
  targetsMs: number[];
  buffersKb: number[];
  planners: string[];
  /** Split the accuracy is measured on (importance is always profiled on dev). */
  split: 'dev' | 'test';
  /** First K examples of the split only (small sweeps for tests). */
  limit?: number;
  /** Importance profile the ranking planners use, e.g. sti:32/2. */
  importance: string;
  seq: number;
  /** A user's labelled data file quality is measured on instead of the model's task (`--data`); absent for the task. */
  data?: string;
}

export interface SweepRow {
  soc: string;
  planner: string;
  targetMs: number;
  bufferKb: number;
  layers: number;
  slices: number;
  /** Oracle accuracy of the plan's configuration on the sweep's split, 0..1. */
  accuracy: number;
  /** Examples the accuracy was measured on (its 95 % interval follows from it); absent in sweeps stored before it was kept. */
  examples?: number;
  /** From the executor in virtual time. */
  makespanMs: number;
  stallMs: number;
  /** Preload-buffer (persistent) bytes; for hold-X the whole resident model. */
  persistentBytes: number;
  peakBytes: number;
  deadlineMet: boolean;
  /** Persistent bytes fit the sweep's preload buffer: the row competes under the same memory budget. */
  withinBudget: boolean;
  configHash: string;
  /** The optimal planner's surrogate objective (importance-weighted fidelity) of the plan. */
  surrogate: number;
  /** The plan's shards (layer, slice, bits, preload), so a report can redraw its timeline. */
  shards: { layer: number; slice: number; bits: number; preload: boolean }[];
  /** The executor's events in virtual time: the timeline a report or the workbench draws. */
  events: TraceEvent[];
}

export type SweepSummary = StoredSweepSummary<SweepSpec>;
export type Sweep = StoredSweep<SweepSpec, SweepRow>;
