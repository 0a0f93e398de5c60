/**
 * What a model family provides to the generic engine (sweeps, reports, the workbench, the CLI): how to
 * recognise and open its models, its unit of streaming and storage, its planners and its quality metric.
 * Generic code reaches a family only through the registry (index.ts), never by importing its folder.
 */
import type { QualityAnswer } from '../eval/oracle.js';
import type { Clock } from '../pipeline/clock.js';
import type { RunResult } from '../pipeline/executor.js';
import type { Plan, PlanUnit } from '../pipeline/plan.js';
import type { Timeline } from '../pipeline/schedule.js';
import type { TraceEvent } from '../pipeline/trace.js';
import type { CostModel } from '../soc/cost.js';
import type { ExperimentStore } from '../store/db.js';

/** How a family's models are judged. */
export interface QualityMetric {
  /** Short name, as stored with every cached evaluation: 'accuracy', 'perplexity', … */
  name: string;
  /** True for accuracy-like metrics, false for losses and perplexity. */
  higherIsBetter: boolean;
  /** How a value prints: 'percent' (0–1 shown as %), or a plain number. */
  format: 'percent' | 'number';
}

export interface PlannerInfo {
  /** A name, or a pattern such as stdpl-B where B is any bitwidth the model's store holds. */
  name: string;
  description: string;
  /** Ranks units by an importance profile (profiled first when missing). */
  ranks?: boolean;
}

/** Planner names with each pattern's B spelled out for the given bitwidths, in the family's order. */
export function expandPlanners(planners: PlannerInfo[], bits: readonly number[]): string[] {
  return planners.flatMap((p) => (p.name.endsWith('-B') ? bits.map((b) => `${p.name.slice(0, -1)}${b}`) : [p.name]));
}

export interface OpenOptions {
  /** The experiment store quality answers and importance profiles are cached in. */
  db: ExperimentStore;
  /** onnxruntime intra-op threads for the model's compute (default: onnxruntime's). */
  threads?: number;
  /** Progress of first-use preparation (sharding a checkpoint into the cache). */
  onPrepare?: (done: number, total: number) => void;
}

export interface ModelFamily {
  /** Registry key, also stored with plans: 'bert', 'rwkv', … */
  id: string;
  title: string;
  /** The paper or system this family's planning reproduces. */
  system: string;
  metric: QualityMetric;
  /** What one streamed, separately stored unit of this family holds. */
  unit: string;
  /** Sequence length of a request unless the user sets one. */
  defaultSeq: number;
  /** Names that stand for a model of this family at a paper's scale (random weights, for timing studies). */
  presets: readonly string[];
  /** Fixed execution paradigms `shardlab run --paradigm` offers for this family's models. */
  paradigms: readonly string[];
  /** The family's implementations of CLI commands (eval, run, …), by command name; loaded when one runs. */
  commands(): Promise<Record<string, FamilyCommand>>;
  /** True when `dir` (a model directory, a shard store or a preset name) belongs to this family. */
  detect(dir: string): boolean;
  /** Every planner the family offers, its default first. */
  planners(): PlannerInfo[];
  /** Opens a model for planning, running and scoring (the family's code loads on first use). */
  open(dir: string, opts: OpenOptions): Promise<FamilyModel>;
}

/**
 * A CLI command as a family implements it: the flags as the command line parsed them. It resolves to
 * `false` when it is a check that ran and found a problem (it printed its findings; exit 1).
 */
export type FamilyCommand = (flags: never) => Promise<void | boolean>;

/** What hosts show of an opened model. */
export interface ModelInfo {
  family: string;
  /** The checksum quality answers and importance profiles are stored under. */
  checksum: string;
  /** The task its quality is measured on; undefined for a shape-only model (random weights). */
  task?: string;
  labels: string[];
  layers: number;
  /** Streaming units per layer. */
  slices: number;
  hidden: number;
  /** Bitwidths the model's units are stored at. */
  bits: number[];
  /** Examples in the dev split (what a full quality measurement runs on). */
  devExamples: number;
}

export interface PlanningRequest {
  planner: string;
  targetMs: number;
  bufferBytes: number;
  seq: number;
  /** A ranking planner's importance grid (see FamilyModel.importance). */
  importance?: number[][];
}

export interface PlannedRequest {
  plan: Plan;
  predicted: Timeline;
  /** How far the predicted makespan overshoots the target, ms (0 when it meets it). */
  overshootMs: number;
  /** Bytes of the units resident in the preload buffer. */
  persistentBytes: number;
  /** Wall-clock time the planner took, ms. */
  planMs: number;
  /** The family's surrogate objective of the plan (importance-weighted fidelity), for comparing planners. */
  surrogate: number;
}

/** Where a quality is measured: a split, or a fixed stratified sample of `limit` of its examples (eval/sample.ts). */
export interface Split {
  split: 'dev' | 'test';
  limit?: number;
}

export interface ImportanceState {
  /** The grid, or undefined while no complete profile is stored. */
  grid?: number[][];
  /**
   * The split key of the profile that serves the request: the stored one used (a profile on more examples
   * serves a request on fewer, e.g. dev for dev~strat200), or, while none is stored, the key it would be
   * stored under.
   */
  split: string;
  method: string;
}

export interface FamilyModel {
  readonly family: ModelFamily;
  readonly dir: string;
  readonly info: ModelInfo;
  /** Concrete planner names valid for this model (patterns expanded to the bitwidths it holds). */
  plannerNames(): string[];
  /** Planners that rank units by an importance profile. */
  ranks(planner: string): boolean;
  /** The planner that stands in for a ranking planner where its profile is missing and an answer cannot wait. */
  unranked(planner: string): string;
  /** The stored importance profile serving dev, or its stratified sample of `limit` examples (one on more examples serves). */
  importance(limit?: number, method?: string): ImportanceState;
  /**
   * The one rule for a ranking planner without a profile, for every host: profile it first, store it, and
   * return it (once per model, task and split).
   */
  ensureImportance(
    limit: number | undefined,
    opts?: { method?: string; onProgress?: (done: number, total: number) => void; signal?: AbortSignal },
  ): Promise<ImportanceState & { grid: number[][]; evaluated: number }>;
  /** Loads what the named planners need before plan() runs them (the optimal planner's solver). */
  preparePlanners(names: string[]): Promise<void>;
  plan(cost: CostModel, req: PlanningRequest): PlannedRequest;
  /** The predicted timeline of a plan (no real work). */
  predict(plan: Plan, cost: CostModel, seq: number): Timeline;
  /** The id quality answers of a plan are cached under. */
  configHash(plan: Plan): string;
  /** Stored bytes of a unit. */
  unitBytes(u: PlanUnit): number;
  /** Checks a plan received from outside (a host, a file) against this model; throws a UserError. */
  checkPlan(plan: Plan): Plan;
  /** Runs a plan through the pipelined executor with real work, on the split's request. */
  run(
    plan: Plan,
    cost: CostModel,
    clock: Clock,
    opts: { split?: 'dev' | 'test'; seq: number; onEvent?: (e: TraceEvent) => void },
  ): Promise<RunResult>;
  /** Measures a plan's quality by the family's metric (cached). */
  quality(
    plan: Plan,
    where: Split,
    opts?: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal },
  ): Promise<QualityAnswer & { split: string }>;
  /** The cached quality of a plan, without measuring. */
  cachedQuality(plan: Plan, where: Split): (QualityAnswer & { split: string }) | undefined;
  /** Frees the model's runtime sessions. */
  release(): Promise<void>;
}
