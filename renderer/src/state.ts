import type { JobEvent, JobKind, TraceEvent } from '../../engine/workbench/api.js';

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
  };
}

export interface JobState {
  jobId: string;
  kind: JobKind;
  label: string;
  status: 'running' | 'done' | 'error' | 'cancelled';
  done: number;
  total: number;
  stage?: string;
  /** Estimated time left, ms, as the last progress event said. */
  etaMs?: number;
  result?: unknown;
  message?: string;
  trace: TraceEvent[];
  startedAt: number;
}

export function applyEvent(jobs: Record<string, JobState>, e: JobEvent): Record<string, JobState> {
  const j = jobs[e.jobId] ?? newJob(e.jobId, e.kind, e.kind);
  const next = { ...j };
  switch (e.type) {
    case 'progress':
      next.done = e.done;
      next.total = e.total;
      next.stage = e.stage;
      next.etaMs = e.etaMs;
      break;
    case 'trace':
      next.trace = [...j.trace, ...e.events];
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
  return { jobId, kind, label, status: 'running', done: 0, total: 0, trace: [], startedAt: Date.now() };
}
