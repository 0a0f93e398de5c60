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
  /** A user's labelled data file to measure quality on instead of the model's task (BERT; see bert/data-file.ts). */
  data?: string;
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
  /**
   * The workbench's views of a family that generates token by token on the device instead of running
   * STI's planned requests (RWKV: What-if over techniques, its planner's grid, quality, a live generation).
   * Loaded on first use; absent for families the workbench reaches through open() only.
   */
  /**
   * The family's own sweeps, where they are not BERT's (RWKV: SoCs × memory budgets × settings): what
   * engine/sweep/rwkv.ts reaches, typed there (engine/sweep/rwkv-types.ts RwkvSweeps). Loaded on first use.
   */
  sweeps?(): Promise<unknown>;
  workbench?(): Promise<TokenWorkbench>;
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
  /** A note naming the checkpoint's tensors that are not weights and were not read (such as position_ids), when any. */
  ignored?: string;
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
  /**
   * Runs a plan through the pipelined executor with real work, on the split's request. `dryRun` (virtual
   * time only) skips the real work: the same timeline and memory, which under a VirtualClock do not depend on it.
   */
  run(
    plan: Plan,
    cost: CostModel,
    clock: Clock,
    opts: { split?: 'dev' | 'test'; seq: number; onEvent?: (e: TraceEvent) => void; dryRun?: boolean },
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

// ---- the workbench of a token-by-token family (RWKV-edge) -------------------------------------------
// Plain data only: what engine/workbench/api.ts re-exports to the UI.

/** The technique toggles of What-if; `stream`: the dense model read layer by layer every token. */
export interface RwkvTechniques {
  lowrank: boolean;
  sparseFfn: boolean;
  embCache: boolean;
  clusterHead: boolean;
  int8: boolean;
  stream: boolean;
}

export interface RwkvRequest {
  soc: string;
  model: string;
  /** The memory budget, MiB. */
  memoryMb: number;
  /** A per-token latency target, ms. */
  tokenMs?: number;
  techniques: RwkvTechniques;
  /** Test passages quality is read at; absent = the planner's default sample. */
  qualityLimit?: number;
}

/** A setting as the views show it. */
export interface RwkvSettingView {
  label: string;
  techniques: RwkvTechniques;
  /** The resolved technique parameters. */
  spec: Record<string, unknown>;
}

/** Quality of a setting on the held-out text, from the experiment store. */
export interface RwkvQuality {
  perplexity: number;
  lastWordAccuracy: number;
  split: string;
  tokens: number;
}

/** What a setting holds: bytes per category of RWKV-edge's accounting, the weights, the embedding cache, the state. */
export interface RwkvResident {
  byCategory: Record<string, number>;
  weights: number;
  cache: number;
  state: number;
  total: number;
}

/** A setting's predicted numbers on one SoC. */
export interface RwkvNumbers {
  tokenMs: number;
  tokensPerSecond: number;
  firstTokenMs: number;
  stallMsPerToken: number;
  ioBytesPerToken: number;
  persistentBytes: number;
  peakBytes: number;
}

/** Only the numbers of a prediction that carries more (a stored run keeps these, not its whole prediction). */
export function rwkvNumbers(p: RwkvNumbers): RwkvNumbers {
  const { tokenMs, tokensPerSecond, firstTokenMs, stallMsPerToken, ioBytesPerToken, persistentBytes, peakBytes } = p;
  return { tokenMs, tokensPerSecond, firstTokenMs, stallMsPerToken, ioBytesPerToken, persistentBytes, peakBytes };
}

/** One candidate of the planner's, or a point of the grid. */
export interface RwkvPoint extends RwkvNumbers {
  label: string;
  setting: RwkvSettingView;
  /** Fits the memory budget and the target (planner candidates; grid points: true). */
  fits: boolean;
  /** One of the named baselines. */
  baseline: boolean;
  quality: RwkvQuality | null;
}

export interface RwkvPlanView {
  pick: RwkvPoint | null;
  optimum: RwkvPoint | null;
  gapPct: number;
  planMs: number;
  exhaustiveMs: number;
  why: string | null;
  candidates: number;
}

export interface RwkvWhatIfView {
  query: RwkvRequest;
  family: 'rwkv';
  setting: RwkvSettingView;
  prediction: RwkvNumbers & { resident: RwkvResident; memoryByCategory: Record<string, { persistent: number; peak: number }> };
  /** The predicted events of the first tokens (each with `token` and `part`); the last token is the steady state. */
  events: TraceEvent[];
  /** The statistics the prediction used, with their sources. */
  stats: { density: number | number[]; headTouched: number; embHitRate: number; sources: Record<string, string | undefined> };
  /** Peak memory within the budget. */
  fits: boolean;
  /** Token latency within the target; null without one. */
  meetsLatency: boolean | null;
  /** The toggled setting's quality, when the store has it (at qualityLimit). */
  quality: RwkvQuality | null;
  /** The planner's recommendation; null while its grid is being read (planStatus 'preparing'). */
  plan: RwkvPlanView | null;
  planStatus: 'ready' | 'preparing';
  /** Test passages quality is read and measured at. */
  qualityLimit: number;
  /** Wall-clock time of this answer, ms. */
  answerMs: number;
}

export interface RwkvGridView {
  soc: string;
  model: string;
  points: RwkvPoint[];
  /** Test passages the grid's quality is measured on. */
  limit: number | null;
}

export interface RwkvLiveSpec {
  techniques: RwkvTechniques;
  prompt: string;
  tokens: number;
}

/** A live generation's numbers, as a run ends. */
export interface RwkvLiveRun {
  setting: RwkvSettingView;
  text: string;
  tokens: number;
  tokensPerSecond: number;
  tokenLatencyMsP50: number;
  tokenLatencyMsP99: number;
  firstTokenMs: number;
  stallMs: number;
  makespanMs: number;
  ioBytesPerToken: number;
  persistentBytes: number;
  peakBytes: number;
  resident: RwkvResident;
  /** The embedding cache at the end: hits and lookups, and the rows it holds. */
  embCache: { hits: number; lookups: number; hitRate: number; rows: number } | null;
  /** The cache's most recent rows at the end (up to 64), oldest first, with their tokens' text. */
  cacheContents: { id: number; text: string }[];
  overruns: number;
  predictedTokenMs: number;
  /** Stall per token fed. */
  stallMsPerStep: number;
  quality: RwkvQuality | null;
}

/** What the workbench asks of a token-by-token family; `dir` is a model directory of the family. */
export interface TokenWorkbench {
  /** The model as Setup lists it, or undefined for one not listed (a trained sibling its base model runs). */
  entry(
    id: string,
    dir: string,
    all: readonly string[],
  ): (Omit<ModelInfo, 'checksum' | 'task'> & { id: string; task: string; rwkv: RwkvShape }) | undefined;
  whatIf(dir: string, cost: CostModel, db: ExperimentStore, q: RwkvRequest): Promise<RwkvWhatIfView>;
  grid(dir: string, cost: CostModel, db: ExperimentStore, q: { soc: string; model: string; qualityLimit?: number }): Promise<RwkvGridView>;
  /** Quality of one setting, or (without techniques) of every grid point, on `limit` test passages. */
  quality(
    dir: string,
    db: ExperimentStore,
    techniques: RwkvTechniques | undefined,
    limit: number | undefined,
    onProgress: (done: number, total: number, stage: string) => void,
    signal: AbortSignal,
  ): Promise<{ measured: number; quality: RwkvQuality | null }>;
  /** A real generation on the SoC paced by `clock`; events and tokens as they happen. */
  live(
    dir: string,
    cost: CostModel,
    db: ExperimentStore,
    spec: RwkvLiveSpec,
    clock: Clock,
    on: { event(e: TraceEvent): void; token(t: { index: number; text: string; atUs: number }): void; threads: number },
  ): Promise<RwkvLiveRun>;
}

export interface RwkvShape {
  version: string;
  embd: number;
  ffn: number;
  vocab: number;
  heads: number;
  headSize: number;
}

/** What a checkpoint directory holds, as the workbench's import shows it (read from its files, nothing computed). */
export interface CheckpointFacts {
  architecture: 'BERT' | 'DistilBERT' | 'RoBERTa';
  layers: number;
  heads: number;
  hidden: number;
  /** The FFN's inner width (intermediate_size). */
  ffn: number;
  /** id2label, in id order. */
  labels: string[];
  tokenizer: { kind: 'tokenizer.json' | 'vocab.txt'; maxLength: number };
  /** The floating-point dtypes the weights are stored in (F32, F16, BF16), as the safetensors headers say. */
  dtype: string[];
  /** Tensors that are not weights and are not read, each as `name (DTYPE [shape])`. */
  ignored: string[];
  /** The fixture task its config names (shardlab.task), when it has one. */
  task?: string;
}
