/**
 * What the shell (App.tsx) hands every view: the engine client, the boot data, the shared request and
 * the current plan, the jobs, and the actions on them.
 */
import type { AppInfo, JobSpec, ModelEntry, PlanView, RwkvWhatIfView, SocEntry, WorkbenchClient } from '../../engine/workbench/api.js';
import type { JobState, Query, ViewId } from './state.js';

export interface Ctx {
  api: WorkbenchClient;
  info: AppInfo;
  socs: SocEntry[];
  models: ModelEntry[];
  planners: string[];
  query: Query;
  setQuery(p: Partial<Query>, inputAt?: number): void;
  plan: PlanView | null;
  planError: string | null;
  planLoading: boolean;
  /** Why `plan` does not answer the current query ("not current: …"), or null when it does. */
  planStale: string | null;
  /** Set when the plan on screen answers a slider move: ms from the input event to the committed render. */
  lastUpdateMs: number | null;
  jobs: Record<string, JobState>;
  startJob(spec: JobSpec, label: string): Promise<string | null>;
  cancelJob(jobId: string): void;
  reloadSocs(): Promise<void>;
  /** Lists the models again (after an import). */
  reloadModels(): Promise<void>;
  refreshPlan(): void;
  notify(text: string, kind?: 'ok' | 'error'): void;
  go(view: ViewId): void;
  registerRun(f: (() => void) | null): void;
  /** The selected model's family: 'bert' (STI planning) or 'rwkv' (RWKV-edge); the views switch on it. */
  family: string;
  /** RWKV: the What-if answer for the current query (prediction, planner's pick, cached quality). */
  rwkv: RwkvWhatIfView | null;
  rwkvError: string | null;
  /** Why `rwkv` does not answer the current query, or null when it does. */
  rwkvStale: string | null;
  refreshRwkv(): void;
}
