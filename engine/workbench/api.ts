/**
 * The WorkbenchApi: the one interface between the UI and the engine. The Electron preload implements it
 * over IPC, the browser-mode bridge over HTTP and a WebSocket; both hosts validate every payload with
 * the zod schemas below (METHODS), so a bad payload is refused in one place with one line.
 *
 * The renderer imports types only from this file (`import type`); the schemas are for the hosts.
 */
import { z } from 'zod';
import type { SocProfile } from '../soc/profile.js';
import type {
  CheckpointFacts,
  ModelInfo,
  RwkvGridView,
  RwkvLiveRun,
  RwkvNumbers,
  RwkvPlanView,
  RwkvPoint,
  RwkvQuality,
  RwkvRequest,
  RwkvResident,
  RwkvSettingView,
  RwkvShape,
  RwkvTechniques as FamilyRwkvTechniques,
  RwkvWhatIfView,
} from '../families/family.js';
import type { DataFileCheck } from '../eval/data-check.js';
import type { Plan, PlanUnit } from '../pipeline/plan.js';
import type { MemorySample } from '../pipeline/memory.js';
import type { TraceEvent } from '../pipeline/trace.js';
import type { SweepRow, SweepSpec, SweepSummary } from '../sweep/types.js';

/** A shard (unit) of a plan as the views draw it. */
export type ShardPlan = Pick<PlanUnit, 'layer' | 'slice' | 'bits' | 'preload'>;

export type { SocProfile, Plan, TraceEvent, MemorySample, SweepRow, SweepSpec, SweepSummary };

// ---- request payloads ---------------------------------------------------------------------------

const id = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a kebab-case id like "odroid-n2plus"');
/**
 * A model's id: a bundled model's directory name under fixtures/models/, or an imported model's
 * `imported-<name>-<hash8>` (importModel). Never a path: a directory is named only to importModel.
 */
const modelId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a model id like "bert-spam"');
const planner = z.string().regex(/^[a-z0-9-]+$/, 'must be a planner name like "sti" or "stdpl-32"');

export const SettingsSchema = z
  .object({
    computeUnit: z.enum(['cpu', 'gpu']).optional(),
    cores: z.number().int().positive().max(64).optional(),
    clockGhz: z.number().positive().max(6).optional(),
    ioMBps: z.number().positive().max(100_000).optional(),
  })
  .strict();

export const PlanQuerySchema = z
  .object({
    soc: id,
    model: modelId,
    planner,
    targetMs: z.number().positive().max(600_000),
    bufferKb: z.number().nonnegative().max(4_194_304),
    seq: z.number().int().min(2).max(512).optional(),
    /** Accuracy on the first N dev examples only (quick answers); absent = the whole dev split. */
    evalLimit: z.number().int().positive().max(100_000).optional(),
    /** Your own data: accuracy (and importance) measured on this data file (a path on the engine's machine) instead of the model's task. */
    data: z.string().min(1).max(4096).optional(),
    settings: SettingsSchema.optional(),
  })
  .strict();
export type PlanQuery = z.infer<typeof PlanQuerySchema>;

export const ModelQuerySchema = z
  .object({ model: modelId, evalLimit: z.number().int().positive().max(100_000).optional(), data: z.string().min(1).max(4096).optional() })
  .strict();
export type ModelQuery = z.infer<typeof ModelQuerySchema>;

/** A new profile: the whole profile, validated by the engine's SocProfileSchema when saved. */
export const SaveSocSchema = z.object({ profile: z.record(z.string(), z.unknown()) }).strict();
export type SaveSocRequest = { profile: SocProfile };

export const SweepStartSchema = z
  .object({
    model: modelId,
    socs: z.array(id).min(1).max(20),
    targetsMs: z.array(z.number().positive().max(600_000)).min(1).max(50),
    buffersKb: z.array(z.number().nonnegative().max(4_194_304)).min(1).max(20),
    planners: z.array(planner).min(1).max(20),
    limit: z.number().int().positive().max(100_000).optional(),
    seq: z.number().int().min(2).max(512).optional(),
    /** Your own data: accuracy measured on this data file (a path on the engine's machine) instead of the model's task. */
    data: z.string().min(1).max(4096).optional(),
  })
  .strict();
export type SweepStart = z.infer<typeof SweepStartSchema>;

/** A plan as PlanView.plan carries it, sent back with a job so the job scores or runs exactly that plan. */
export const PlanSchema = z
  .object({
    family: z.string().max(40),
    planner,
    layers: z.number().int().positive().max(1000),
    slices: z.number().int().positive().max(1000),
    units: z
      .array(
        z
          .object({
            layer: z.number().int().min(-1).max(1000),
            slice: z.number().int().min(0).max(100_000),
            codec: z.enum(['sti-dict', 'fp32', 'fp16', 'int8']),
            bits: z.number().int().min(1).max(32),
            preload: z.boolean(),
          })
          .strict(),
      )
      .max(1_000_000),
    loadAllFirst: z.boolean(),
    options: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
  })
  .strict();

// ---- RWKV (RWKV-edge on a modeled SoC) -----------------------------------------------------------

/** RWKV-edge's techniques as What-if's toggles; `stream`: the dense model read layer by layer every token (combines with INT8 only). */
export const RwkvTechniquesSchema = z
  .object({
    lowrank: z.boolean(),
    sparseFfn: z.boolean(),
    embCache: z.boolean(),
    clusterHead: z.boolean(),
    int8: z.boolean(),
    stream: z.boolean(),
  })
  .strict();
export type RwkvTechniques = FamilyRwkvTechniques;

export const RwkvQuerySchema = z
  .object({
    soc: id,
    model: modelId,
    /** The device's memory budget for the model, MiB. */
    memoryMb: z.number().positive().max(1_048_576),
    /** A per-token latency target, ms; absent = none (the planner then maximises quality within memory). */
    tokenMs: z.number().positive().max(60_000).optional(),
    techniques: RwkvTechniquesSchema,
    /** Test passages quality is read at (the planner's grid and the toggled setting); absent = the planner's default sample. */
    qualityLimit: z.number().int().positive().max(10_000).optional(),
  })
  .strict();
export type RwkvQuery = RwkvRequest;
export const RwkvGridSchema = z
  .object({ soc: id, model: modelId, qualityLimit: z.number().int().positive().max(10_000).optional() })
  .strict();
export type RwkvGridQuery = z.infer<typeof RwkvGridSchema>;

export const JobSpecSchema = z.discriminatedUnion('kind', [
  /** `plan`: the plan the user sees (PlanView.plan); without it the job plans the query itself. */
  z.object({ kind: z.literal('accuracy'), query: PlanQuerySchema, plan: PlanSchema.optional() }).strict(),
  z
    .object({
      kind: z.literal('importance'),
      model: modelId,
      evalLimit: z.number().int().positive().max(100_000).optional(),
      data: z.string().min(1).max(4096).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('sweep'), sweep: SweepStartSchema }).strict(),
  z
    .object({
      kind: z.literal('live'),
      query: PlanQuerySchema,
      plan: PlanSchema.optional(),
      /** Slow motion: 1 = real time; 10 = every modeled microsecond takes ten on the wall clock. */
      slowdown: z.number().min(1).max(1000).optional(),
    })
    .strict(),
  /** RWKV quality (perplexity, last-word accuracy) on `limit` test passages: of one setting, or, without `techniques`, of the planning grid. */
  z
    .object({
      kind: z.literal('rwkv-quality'),
      model: modelId,
      techniques: RwkvTechniquesSchema.optional(),
      limit: z.number().int().positive().max(10_000).optional(),
    })
    .strict(),
  /** RWKV generating for real on the modeled SoC, token by token, streaming its text and timeline. */
  z
    .object({
      kind: z.literal('rwkv-live'),
      soc: id,
      model: modelId,
      techniques: RwkvTechniquesSchema,
      prompt: z.string().min(1).max(2000),
      tokens: z.number().int().min(1).max(512),
      slowdown: z.number().min(1).max(1000).optional(),
    })
    .strict(),
]);
export type JobSpec = z.infer<typeof JobSpecSchema>;

export const JobIdSchema = z.object({ jobId: z.string().regex(/^job-\d+$/, 'must be a job id like "job-3"') }).strict();
export const SweepIdSchema = z.object({ id: z.number().int().positive() }).strict();
export const ExportSchema = z
  .object({
    id: z.number().int().positive(),
    format: z.enum(['html', 'json', 'csv', 'trace']),
    /** For the Chrome trace: which row of the sweep (default 0). */
    row: z.number().int().nonnegative().optional(),
  })
  .strict();
export const PlanTraceSchema = z.object({ query: PlanQuerySchema }).strict();
/** Every planner of the model at one request: the request without its planner. */
export const PlanAllSchema = PlanQuerySchema.omit({ planner: true });
export type PlanAllQuery = z.infer<typeof PlanAllSchema>;
/** The target latencies worth offering for a SoC and model (the request's target and planner are not needed). */
export const TargetRangeSchema = PlanQuerySchema.omit({ planner: true, targetMs: true, evalLimit: true, data: true });
export type TargetRangeQuery = z.infer<typeof TargetRangeSchema>;
export const EmptySchema = z.object({}).strict();
/** A data file of one's own (a path on the engine's machine), checked against a model's labels when one is named. */
export const CheckDataSchema = z.object({ path: z.string().min(1).max(4096), model: modelId.optional() }).strict();
export type CheckDataQuery = z.infer<typeof CheckDataSchema>;
/** A checkpoint directory of one's own (a path on the engine's machine) to import as a model. */
export const ImportModelSchema = z.object({ dir: z.string().min(1).max(4096) }).strict();
export type ImportModelQuery = z.infer<typeof ImportModelSchema>;

// ---- what the UI sees ---------------------------------------------------------------------------

export interface AppInfo {
  version: string;
  host: 'electron' | 'browser' | 'test';
  defaults: { soc: string; model: string; planner: string; comparePlanner: string; targetMs: number; bufferKb: number };
  dataDir: string;
}

export interface SocEntry {
  profile: SocProfile;
  bundled: boolean;
  file: string;
}

/** A bundled model as the views list it: its opened model's info (family, task, shape, bitwidths, dev examples). */
export interface ModelEntry extends Omit<ModelInfo, 'task' | 'checksum'> {
  /** Its directory's name under fixtures/models/. */
  id: string;
  task: string;
  /** An RWKV model's shape (family 'rwkv'; its `layers` and `hidden` say the same, `slices` is 0). */
  rwkv?: RwkvShape;
  /** An imported model (importModel): what was detected, and why it cannot be used now (its directory removed or changed). */
  imported?: ImportedModelView & { problem?: string };
}

/** What importModel detected in a checkpoint directory, as Setup shows it (and as imported-models.json keeps it). */
export interface ImportedModelView extends Omit<CheckpointFacts, 'task'> {
  /** `imported-<name>-<first 8 hex of the checksum>`: what queries name it by. */
  id: string;
  /** The directory, absolute. */
  dir: string;
  family: string;
  /** The checkpoint's checksum (config, weights, tokenizer files). */
  checksum: string;
  /** The task it measures on by itself (shardlab.task); null: accuracy needs a data file (Setup's 'Your own data'). */
  task: string | null;
  importedAt: string;
}

export interface AccuracyView {
  accuracy: number;
  examples: number;
  split: string;
  cached: boolean;
}

export interface PlanView {
  query: PlanQuery;
  /** The planner that made the plan: the one asked for, or sti-uniform when its importance profile is missing. */
  planner: string;
  /** needs-data: the model has no task of its own and no data file was given (an imported checkpoint); planned with sti-uniform, no accuracy. */
  importance: 'stored' | 'missing' | 'unused' | 'needs-data';
  /** The plan itself: what accuracy and live jobs are sent, so they score and run exactly this plan. */
  plan: Plan;
  layers: number;
  slices: number;
  shards: (ShardPlan & { bytes: number })[];
  /** The predicted timeline (virtual time). */
  events: TraceEvent[];
  /** Memory over the predicted timeline: the preload buffer plus streamed shards read and not yet decoded (pipeline/trace.ts inFlightMemory). */
  memory: MemorySample[];
  makespanMs: number;
  stallMs: number;
  overshootMs: number;
  /** The predicted makespan meets the target (the engine's one definition). */
  meetsTarget: boolean;
  persistentBytes: number;
  bufferBytes: number;
  streamedBytes: number;
  /** Wall-clock time the planner took, ms. */
  planMs: number;
  configHash: string;
  accuracy: AccuracyView | null;
  importanceGrid: number[][] | null;
}

/** One planner's plan at the current request, as What-if's table lists it: numbers only, accuracy from the cache. */
export interface PlannerSummary {
  /** The planner asked for. */
  planner: string;
  /** The planner that made the plan (sti-uniform stands in for a ranking planner without its importance profile). */
  madeBy: string;
  layers: number;
  slices: number;
  makespanMs: number;
  stallMs: number;
  meetsTarget: boolean;
  persistentBytes: number;
  bufferBytes: number;
  /** Cached accuracy only (null: not evaluated yet); never computed by this call. */
  accuracy: AccuracyView | null;
}

/** The range of target latencies for a SoC and model: from the fastest plan any planner makes to the full model streamed layerwise. */
export interface TargetRange {
  /** Predicted makespan of the smallest plan (what any planner falls back to when nothing fits), ms. */
  fastestMs: number;
  /** Predicted makespan of the whole model at fp32 streamed layer by layer (stdpl-32), ms. */
  slowestMs: number;
  /** The slider's ends: a bit below the fastest, a bit above the slowest, rounded. */
  minMs: number;
  maxMs: number;
}

export type JobKind = JobSpec['kind'];

export type JobEvent =
  /** Waiting for a free slot (the host runs a few jobs at once), behind `ahead` others. */
  | { jobId: string; kind: JobKind; type: 'queued'; ahead: number }
  | { jobId: string; kind: JobKind; type: 'started' }
  | {
      jobId: string;
      kind: JobKind;
      type: 'progress';
      done: number;
      total: number;
      stage?: string;
      /** Estimated time left, ms (from the rate so far). */ etaMs?: number;
    }
  | { jobId: string; kind: JobKind; type: 'trace'; events: TraceEvent[] }
  /** Tokens an RWKV live run generated since the last such event, each as the run reached it in modeled time (µs). */
  | { jobId: string; kind: JobKind; type: 'tokens'; tokens: { index: number; text: string; atUs: number }[] }
  | { jobId: string; kind: JobKind; type: 'done'; result: unknown }
  | { jobId: string; kind: JobKind; type: 'error'; message: string }
  | { jobId: string; kind: JobKind; type: 'cancelled' };

/** A job the host has not settled yet, as listJobs answers. */
export interface ActiveJob {
  jobId: string;
  kind: JobKind;
  state: 'queued' | 'running';
}

/** Said by a host outside any job: its engine (service) process died and was restarted. */
export interface EngineEvent {
  type: 'engine';
  message: string;
}

/** Said by the renderer's client of its link to the host: the browser's connection dropped, or is back. */
export interface LinkEvent {
  type: 'link';
  up: boolean;
  message: string;
}

export interface LiveResult {
  planner: string;
  makespanMs: number;
  stallMs: number;
  predictedMakespanMs: number;
  overruns: number;
  persistentBytes: number;
  peakBytes: number;
  slowdown: number;
}

export type { RwkvSettingView, RwkvQuality, RwkvResident, RwkvNumbers, RwkvPoint, RwkvPlanView, RwkvWhatIfView, RwkvGridView };

/** A live RWKV generation's result: the run's numbers, and where the workbench stored it. */
export interface RwkvLiveResult extends RwkvLiveRun {
  family: 'rwkv';
  prompt: string;
  slowdown: number;
  runId: number;
}

/** An RWKV experiment the workbench stored: a live run or a recorded What-if plan. */
export interface RwkvRun {
  id: number;
  kind: 'live' | 'plan';
  at: string;
  soc: string;
  model: string;
  setting: RwkvSettingView;
  memoryMb?: number;
  tokenMs?: number;
  numbers: RwkvNumbers & { stallMs?: number; tokens?: number; embHitRate?: number };
  quality: RwkvQuality | null;
  text?: string;
}

export interface ExportFile {
  filename: string;
  mimeType: string;
  content: string;
}

/** What checkData found in a data file (read by engine/families/bert/data-file.ts); `ok` when it can be measured on. */
export type DataCheckView = DataFileCheck;

export interface SweepView extends SweepSummary {
  rows: SweepRow[];
  /** Examples each accuracy of the sweep was measured on (for its 95 % interval), when the rows do not carry their own; null if unknown. */
  examples: number | null;
}

/** Every call the UI can make. Each takes one payload object (validated by the host) and resolves to its answer. */
export interface WorkbenchApi {
  info(req: Record<string, never>): Promise<AppInfo>;
  listSocs(req: Record<string, never>): Promise<SocEntry[]>;
  saveSoc(req: SaveSocRequest): Promise<SocEntry>;
  listModels(req: Record<string, never>): Promise<ModelEntry[]>;
  planners(req: ModelQuery): Promise<string[]>;
  plan(req: PlanQuery): Promise<PlanView>;
  planAll(req: PlanAllQuery): Promise<PlannerSummary[]>;
  targetRange(req: TargetRangeQuery): Promise<TargetRange>;
  planTrace(req: { query: PlanQuery }): Promise<ExportFile>;
  importance(req: ModelQuery): Promise<number[][] | null>;
  startJob(req: JobSpec): Promise<{ jobId: string }>;
  cancelJob(req: { jobId: string }): Promise<{ cancelled: boolean }>;
  /** The jobs not settled yet: what a client that lost its event link checks its own list against. */
  listJobs(req: Record<string, never>): Promise<ActiveJob[]>;
  listSweeps(req: Record<string, never>): Promise<SweepSummary[]>;
  getSweep(req: { id: number }): Promise<SweepView>;
  deleteSweep(req: { id: number }): Promise<{ deleted: boolean }>;
  exportSweep(req: { id: number; format: 'html' | 'json' | 'csv' | 'trace'; row?: number }): Promise<ExportFile>;
  /** RWKV: the toggled setting's prediction, its cached quality and the planner's pick for the budget (What-if, Pipeline, Buffer). */
  rwkvWhatIf(req: RwkvQuery): Promise<RwkvWhatIfView>;
  /** RWKV: every point of the planning grid and the baselines, predicted on the SoC, with cached quality (Tradeoffs). */
  rwkvGrid(req: RwkvGridQuery): Promise<RwkvGridView>;
  /** RWKV: stores the What-if answer of a query as an experiment. */
  recordRwkvPlan(req: RwkvQuery): Promise<RwkvRun>;
  /** RWKV: the stored live runs and recorded plans, newest first. */
  listRwkvRuns(req: Record<string, never>): Promise<RwkvRun[]>;
  /** Your own data: what a JSONL or CSV file holds (rows, columns, single or pair, labels, split sizes) and its problems. */
  checkData(req: CheckDataQuery): Promise<DataCheckView>;
  /** Your own model: opens a checkpoint directory, registers it as an imported model (kept across restarts) and says what was detected. */
  importModel(req: ImportModelQuery): Promise<ImportedModelView>;
}

export type MethodName = keyof WorkbenchApi;

/** The schema of each method's payload: what the hosts validate before anything runs. */
export const METHODS: Record<MethodName, z.ZodType> = {
  info: EmptySchema,
  listSocs: EmptySchema,
  saveSoc: SaveSocSchema,
  listModels: EmptySchema,
  planners: ModelQuerySchema,
  plan: PlanQuerySchema,
  planAll: PlanAllSchema,
  targetRange: TargetRangeSchema,
  planTrace: PlanTraceSchema,
  importance: ModelQuerySchema,
  startJob: JobSpecSchema,
  cancelJob: JobIdSchema,
  listJobs: EmptySchema,
  listSweeps: EmptySchema,
  getSweep: SweepIdSchema,
  deleteSweep: SweepIdSchema,
  exportSweep: ExportSchema,
  rwkvWhatIf: RwkvQuerySchema,
  rwkvGrid: RwkvGridSchema,
  recordRwkvPlan: RwkvQuerySchema,
  listRwkvRuns: EmptySchema,
  checkData: CheckDataSchema,
  importModel: ImportModelSchema,
};

/** The renderer's side of a host: the API plus job events pushed by the engine. */
export interface WorkbenchClient {
  call<M extends MethodName>(method: M, req: Parameters<WorkbenchApi[M]>[0]): Promise<Awaited<ReturnType<WorkbenchApi[M]>>>;
  onEvent(listener: (e: JobEvent) => void): () => void;
  /** The engine restarted, the link to the host dropped or came back (browser mode). */
  onStatus(listener: (e: EngineEvent | LinkEvent) => void): () => void;
  /** Menu commands from the Electron application menu (browser mode: none). */
  onMenu?(listener: (command: string) => void): () => void;
  /** The host's directory picker (Electron: dialog.showOpenDialog in the main process); null when cancelled. Browser mode: none. */
  chooseDirectory?(): Promise<string | null>;
  host: 'electron' | 'browser';
}
