/**
 * An RWKV sweep: every SoC × memory budget × setting over one RWKV model directory (RWKV-edge, issue 15).
 * A setting is one of RWKV-edge's named baselines (baselines.ts) or the planner, which picks per SoC ×
 * budget (× token-latency target) from the planning grid. Every row carries the predicted per-token
 * latency and memory (predictEdge, microseconds per setting), the cached quality on the sample of the
 * spec, and, for each distinct (SoC, setting), a real run of a few greedy tokens in virtual time (runEdge:
 * real reads, decode and onnxruntime steps; modeled SoC time), which is what makes a regression re-run the
 * engine and not only its model.
 */
import type { SocProfile } from '../soc/profile.js';
import type { ExperimentStore, StoredSweep } from '../store/db.js';

/** The planner's row label; every other label is a baseline of baselines.ts. */
export const PLANNER_SETTING = 'planner';
export type PlannerSetting = typeof PLANNER_SETTING;

export interface RwkvSweepSpec {
  family: 'rwkv';
  /** RWKV model directory, as given. */
  model: string;
  socs: string[];
  /** Memory budgets, MiB (2^20 bytes). */
  memoryMiB: number[];
  /** Token-latency targets the planner is asked for, ms; empty: none (the fastest pick that fits). */
  tokenMs: number[];
  /** Baseline names and/or `planner`, in row order. */
  settings: string[];
  /** Quality split (perplexity and last-word accuracy), and the sample of its passages. */
  split: 'dev' | 'test';
  limit: number;
  /** Measure quality missing from the experiment store (else rows carry cached quality only). */
  measure: boolean;
  /** Tokens each real run generates greedily after the prompt; 0: predictions only. */
  runTokens: number;
  prompt: string;
}

/** A real run of a setting on an SoC in virtual time (engine/families/rwkv/edge/run.ts). */
export interface RwkvRunFigures {
  tokens: number;
  tokensPerSecond: number;
  tokenMsP50: number;
  firstTokenMs: number;
  stallMs: number;
  makespanMs: number;
  ioBytesPerToken: number;
  persistentBytes: number;
  peakBytes: number;
  /** The generated continuation (greedy): the engine's numerics, checked by regress. */
  text: string;
}

export interface RwkvSweepRow {
  soc: string;
  /** A baseline's name, or `planner`. */
  setting: string;
  memoryMiB: number;
  /** The planner's token-latency target, ms; 0 for baselines and for a planner asked for none. */
  tokenMsTarget: number;
  /** The planner's pick (a grid point's label); undefined for baselines and when nothing fits. */
  pick?: string;
  /** Why the planner picked nothing. */
  why?: string;
  /** The exhaustive search's best point over the same grid and request (planner rows), and its perplexity. */
  optimum?: string;
  optimumPerplexity?: number;
  /** The setting's peak memory fits the budget. */
  fits: boolean;
  /** Predicted (predictEdge): steady-state per-token time and rate, the cold first token, stalls, reads. */
  tokensPerSecond: number;
  tokenMs: number;
  firstTokenMs: number;
  stallMsPerToken: number;
  ioBytesPerToken: number;
  persistentBytes: number;
  peakBytes: number;
  /** Quality on the spec's sample (absent when not measured and not cached). */
  perplexity?: number;
  lastWordAccuracy?: number;
  qualityTokens?: number;
  /** The real run of this setting on this SoC (shared by every budget's row of it). */
  run?: RwkvRunFigures;
  /** The technique setting as the engine ran it (TechniqueSpec, with stream), hashed for the record. */
  settingHash: string;
}

export type RwkvSweep = StoredSweep<RwkvSweepSpec, RwkvSweepRow>;

export const isRwkvSpec = (spec: unknown): spec is RwkvSweepSpec =>
  typeof spec === 'object' && spec !== null && (spec as { family?: unknown }).family === 'rwkv';

export const isRwkvSweep = (s: { spec: unknown }): s is RwkvSweep => isRwkvSpec(s.spec);

export interface RwkvSweepOptions {
  onProgress?: (done: number, total: number, stage: 'grid' | 'sweep') => void;
  onRow?: (row: RwkvSweepRow) => void;
  signal?: AbortSignal;
  /** Tests: replace the planning context the planner plans over (e.g. give its points qualities); the family's type. */
  context?: (ctx: never) => unknown;
}

/**
 * What the RWKV family's sweeps (engine/families/rwkv/sweep.ts) offer generic code, which reaches them through
 * the family registry (ModelFamily.sweeps, engine/sweep/rwkv.ts), never by importing the family.
 */
export interface RwkvSweeps {
  /** The paper's speed prompt, the real runs' default. */
  prompt: string;
  /** Test passages quality is measured on unless the spec says otherwise. */
  limit: number;
  runTokens: number;
  /** The named baselines and the planner. */
  settings: readonly string[];
  /** Checks a spec before any work starts (one line per problem); returns the SoC profiles. */
  check(spec: RwkvSweepSpec): SocProfile[];
  run(spec: RwkvSweepSpec, db: ExperimentStore, o?: RwkvSweepOptions): Promise<RwkvSweep>;
  /** Stored rows read back (validated). */
  rowsOf(rows: unknown[]): RwkvSweepRow[];
}
