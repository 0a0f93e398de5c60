import type { JobEvent, JobKind, RwkvTechniques, TraceEvent } from '../../engine/workbench/api.js';

export interface Query {
  soc: string;
  model: string;
  planner: string;
  comparePlanner: string;
  targetMs: number;
  bufferKb: number;
  /** First N dev examples for accuracies; 0 = the whole dev split. */
  evalLimit: number;
  /** Compute accuracies of new plans in the background. */
  autoAccuracy: boolean;
  /** Your own data: a data file (path on the engine's machine) accuracy is measured on instead of the model's task; '' = the task. */
  data: string;
  /** RWKV: the memory budget, MiB. */
  rwkvMemoryMb: number;
  /** RWKV: the per-token latency target, ms; 0 = none. */
  rwkvTokenMs: number;
  /** RWKV: What-if's technique toggles. */
  rwkvTechniques: RwkvTechniques;
  /** RWKV: test passages quality is measured and read at; 0 = the planner's default sample. */
  rwkvQualityLimit: number;
}

export const RWKV_DEFAULTS = {
  rwkvMemoryMb: 8,
  rwkvTokenMs: 0,
  rwkvTechniques: { lowrank: true, sparseFfn: true, embCache: true, clusterHead: true, int8: false, stream: false },
  rwkvQualityLimit: 0,
} satisfies Partial<Query>;

/** The RWKV What-if request of a query. */
export function rwkvQuery(q: Query) {
  return {
    soc: q.soc,
    model: q.model,
    memoryMb: q.rwkvMemoryMb,
    ...(q.rwkvTokenMs > 0 ? { tokenMs: q.rwkvTokenMs } : {}),
    techniques: q.rwkvTechniques,
    ...(q.rwkvQualityLimit > 0 ? { qualityLimit: q.rwkvQualityLimit } : {}),
  };
}

/** The plan request of a query, as the engine's plan and startJob methods take it. */
export function planQuery(q: Query) {
  return {
    soc: q.soc,
    model: q.model,
    planner: q.planner,
    targetMs: q.targetMs,
    bufferKb: q.bufferKb,
    ...(q.evalLimit > 0 ? { evalLimit: q.evalLimit } : {}),
    ...(q.data ? { data: q.data } : {}),
  };
}

/** The same plan request, whatever the order of its fields. */
export function sameRequest(a: object, b: object): boolean {
  const key = (o: object) => JSON.stringify(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : 1)));
  return key(a) === key(b);
}

/**
 * Why a plan on screen does not answer the current settings, or null when it does: the link to the engine
 * is down, the request for the current settings failed, or its answer has not arrived yet.
 */
export function notCurrent(shown: object | undefined, wanted: object, error: string | null, linkDown: string | null): string | null {
  if (linkDown) return `not current: ${linkDown}`;
  if (error) return `not current: ${error}`;
  if (!shown || !sameRequest(shown, wanted)) return 'not current: updating…';
  return null;
}

export interface JobState {
  jobId: string;
  kind: JobKind;
  label: string;
  /** 'running' until it settles; a job waiting for a free slot in the host is running and `queued`. */
  status: 'running' | 'done' | 'error' | 'cancelled';
  queued: boolean;
  done: number;
  total: number;
  stage?: string;
  /** Estimated time left, ms, as the last progress event said. */
  etaMs?: number;
  result?: unknown;
  message?: string;
  trace: TraceEvent[];
  /** Tokens an RWKV live run streamed so far, in order. */
  tokens: { index: number; text: string; atUs: number }[];
  startedAt: number;
}

export function applyEvent(jobs: Record<string, JobState>, e: JobEvent): Record<string, JobState> {
  const j = jobs[e.jobId] ?? newJob(e.jobId, e.kind, e.kind);
  const next = { ...j };
  switch (e.type) {
    case 'queued':
      next.queued = true;
      break;
    case 'started':
      next.queued = false;
      break;
    case 'progress':
      next.done = e.done;
      next.total = e.total;
      next.stage = e.stage;
      next.etaMs = e.etaMs;
      break;
    case 'trace':
      next.trace = [...j.trace, ...e.events];
      break;
    case 'tokens':
      next.tokens = [...j.tokens, ...e.tokens];
      break;
    case 'done':
      next.status = 'done';
      next.result = e.result;
      break;
    case 'error':
      next.status = 'error';
      next.message = e.message;
      break;
    case 'cancelled':
      next.status = 'cancelled';
      break;
  }
  return { ...jobs, [e.jobId]: next };
}

const KEY = 'shardlab-query';

export function loadQuery(defaults: Query): Query {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<Query> | null;
    return saved ? { ...defaults, ...saved } : defaults;
  } catch {
    return defaults;
  }
}

export function saveQuery(q: Query): void {
  localStorage.setItem(KEY, JSON.stringify(q));
}

export const VIEWS = [
  { id: 'setup', label: 'Setup' },
  { id: 'whatif', label: 'What-if' },
  { id: 'pipeline', label: 'Pipeline' },
  { id: 'buffer', label: 'Buffer' },
  { id: 'tradeoffs', label: 'Tradeoffs' },
  { id: 'experiments', label: 'Experiments' },
  { id: 'live', label: 'Live' },
] as const;
export type ViewId = (typeof VIEWS)[number]['id'];

export function newJob(jobId: string, kind: JobKind, label: string): JobState {
  return { jobId, kind, label, status: 'running', queued: false, done: 0, total: 0, trace: [], tokens: [], startedAt: Date.now() };
}

/** Jobs the client believes running that the host no longer has (events lost while the link was down). */
export function settleLost(jobs: Record<string, JobState>, active: { jobId: string }[]): Record<string, JobState> {
  const alive = new Set(active.map((a) => a.jobId));
  const next = { ...jobs };
  for (const j of Object.values(jobs))
    if (j.status === 'running' && !alive.has(j.jobId))
      next[j.jobId] = { ...j, status: 'error', queued: false, message: 'its end was not heard: the connection dropped while it ran' };
  return next;
}
