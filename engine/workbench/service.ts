/**
 * The WorkbenchApi over the engine: SoC profiles, the bundled models, planning (pure, microseconds:
 * what the What-if view calls while a slider drags), stored importance and accuracy, sweeps and their
 * exports, and the long jobs (accuracy, importance profile, sweep, real-time run) that hosts run in a
 * worker of their own. No Electron, no React, no HTTP: hosts validate payloads (validate.ts) and call in.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileImportance, storedImportance } from '../families/bert/importance.js';
import { AccuracyOracle } from '../families/bert/oracle.js';
import type { BertModel } from '../families/bert/model.js';
import { readBertConfig } from '../families/bert/config.js';
import { loadTask, requireTask, type TaskName } from '../families/bert/datasets.js';
import { UserError } from '../core/errors.js';
import { RealClock } from '../pipeline/clock.js';
import { executorThreads } from '../pipeline/executor.js';
import { executePlan } from '../families/bert/program.js';
import { chromeTrace, type TraceEvent } from '../pipeline/trace.js';
import { configurationOf } from '../families/bert/plan/plan.js';
import { plannerNames } from '../families/bert/plan/planners.js';
import { planRequest, RANKING_PLANNERS, type PlanResult } from '../families/bert/plan/request.js';
import { configurationHash, type Configuration } from '../families/bert/configuration.js';
import { openSharded } from '../families/bert/open.js';
import type { ShardStore } from '../families/bert/shard-store.js';
import { CostModel, resolveSettings } from '../soc/cost.js';
import { getSocProfile, loadSocProfileFiles, parseSocProfile, userSocsDir } from '../soc/load.js';
import { ExperimentStore } from '../store/db.js';
import { dataDir } from '../core/paths.js';
import { renderReport } from '../report/report.js';
import { requestBatch, runSweep } from '../sweep/sweep.js';
import type { SweepRow, SweepSpec } from '../sweep/types.js';
import type {
  AccuracyView,
  AppInfo,
  ExportFile,
  JobEvent,
  JobSpec,
  LiveResult,
  ModelEntry,
  ModelQuery,
  PlanQuery,
  PlanView,
  SaveSocRequest,
  SocEntry,
  SweepView,
  WorkbenchApi,
} from './api.js';
import { ScaledRealClock } from './scaled-clock.js';

/** The bundled models: fixtures/models/ at the repository root (found from dist/engine/workbench/). */
export const MODELS_DIR = fileURLToPath(new URL('../../../fixtures/models/', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL('../../../package.json', import.meta.url));

export const DEFAULTS: AppInfo['defaults'] = {
  soc: 'odroid-n2plus',
  model: 'bert-spam',
  planner: 'sti',
  comparePlanner: 'stdpl-32',
  targetMs: 120,
  bufferKb: 1536,
};

/** The importance profile the ranking planners use (STI: one shard at 32 bits, the rest at 2). */
export const IMPORTANCE_METHOD = 'sti:32/2';
const DEFAULT_SEQ = 128;

interface OpenModel {
  id: string;
  dir: string;
  store: ShardStore;
  task: TaskName;
  labels: string[];
  devExamples: number;
}

export interface JobContext {
  jobId: string;
  emit(e: JobEvent): void;
  signal: AbortSignal;
}

export class WorkbenchService implements Omit<WorkbenchApi, 'startJob' | 'cancelJob'> {
  private readonly models = new Map<string, Promise<OpenModel>>();
  private dbHandle: ExperimentStore | undefined;

  constructor(readonly host: AppInfo['host'] = 'test') {}

  private get db(): ExperimentStore {
    this.dbHandle ??= ExperimentStore.open();
    return this.dbHandle;
  }

  async close(): Promise<void> {
    this.dbHandle?.close();
    this.dbHandle = undefined;
  }

  async info(): Promise<AppInfo> {
    const version = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;
    return { version, host: this.host, defaults: DEFAULTS, dataDir: dataDir() };
  }

  // ---- SoC profiles -------------------------------------------------------------------------------

  async listSocs(): Promise<SocEntry[]> {
    return loadSocProfileFiles().map((e) => ({ profile: e.profile, bundled: e.bundled, file: e.file }));
  }

  /** Saves a new user profile; refuses an id that exists (bundled or user), so nothing stored is overwritten. */
  async saveSoc(req: SaveSocRequest): Promise<SocEntry> {
    const raw = req.profile as unknown as Record<string, unknown>;
    const name = typeof raw.id === 'string' ? `${raw.id}.json` : 'new profile';
    const profile = parseSocProfile(raw, name);
    const existing = loadSocProfileFiles();
    if (existing.some((e) => e.profile.id === profile.id))
      throw new UserError(`a profile with id "${profile.id}" exists already; choose a new id for your copy`);
    const dir = userSocsDir();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${profile.id}.json`);
    writeFileSync(file, JSON.stringify(profile, null, 2) + '\n', { flag: 'wx' });
    return { profile, bundled: false, file };
  }

  // ---- models ------------------------------------------------------------------------------------

  private modelDirs(): string[] {
    if (!existsSync(MODELS_DIR)) return [];
    return readdirSync(MODELS_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(MODELS_DIR, d.name, 'config.json')))
      .map((d) => d.name)
      .sort();
  }

  private open(id: string): Promise<OpenModel> {
    let p = this.models.get(id);
    if (!p) {
      p = this.openModel(id);
      this.models.set(id, p);
      p.catch(() => this.models.delete(id));
    }
    return p;
  }

  private async openModel(id: string): Promise<OpenModel> {
    if (!this.modelDirs().includes(id))
      throw new UserError(`unknown model "${id}"; the workbench has ${this.modelDirs().join(', ') || 'no models in fixtures/models'}`);
    const dir = join(MODELS_DIR, id);
    const { model, store } = await openSharded(dir, { threads: 1 });
    await model.release();
    const task = requireTask(store.config.task ?? '');
    const dev = loadTask(task, 'dev');
    return { id, dir, store, task, labels: dev.labels, devExamples: dev.examples.length };
  }

  async listModels(): Promise<ModelEntry[]> {
    const out: ModelEntry[] = [];
    for (const id of this.modelDirs()) {
      const c = readBertConfig(join(MODELS_DIR, id));
      if (c.shapeOnly || !c.task) continue;
      const m = await this.open(id);
      out.push({
        id,
        task: m.task,
        labels: m.labels,
        layers: c.layers,
        slices: c.slices,
        hidden: c.hidden,
        bits: m.store.bits,
        devExamples: m.devExamples,
      });
    }
    return out;
  }

  async planners(req: ModelQuery): Promise<string[]> {
    const m = await this.open(req.model);
    return plannerNames(m.store.bits);
  }

  // ---- planning ----------------------------------------------------------------------------------

  private splitKey(m: OpenModel, evalLimit?: number): string {
    return evalLimit && evalLimit < m.devExamples ? `dev[:${evalLimit}]` : 'dev';
  }

  private importanceOf(m: OpenModel, evalLimit?: number): number[][] | undefined {
    const key = { model: m.store.checksum, task: m.task, split: this.splitKey(m, evalLimit), method: IMPORTANCE_METHOD };
    return storedImportance(this.db, key, m.store.config.layers, m.store.config.slices);
  }

  async importance(req: ModelQuery): Promise<number[][] | null> {
    return this.importanceOf(await this.open(req.model), req.evalLimit) ?? null;
  }

  private costOf(q: PlanQuery): CostModel {
    const profile = getSocProfile(q.soc);
    return new CostModel(profile, resolveSettings(profile, q.settings ?? {}));
  }

  private async planOf(
    q: PlanQuery,
  ): Promise<{ m: OpenModel; r: PlanResult; planner: string; importance: PlanView['importance']; grid?: number[][] }> {
    const m = await this.open(q.model);
    const cost = this.costOf(q);
    const known = plannerNames(m.store.bits);
    if (!known.includes(q.planner)) throw new UserError(`unknown planner "${q.planner}": use one of ${known.join(', ')}`);
    const grid = this.importanceOf(m, q.evalLimit);
    let planner = q.planner;
    let importance: PlanView['importance'] = 'unused';
    if (RANKING_PLANNERS.includes(q.planner)) {
      importance = grid ? 'stored' : 'missing';
      if (!grid) planner = 'sti-uniform';
    }
    const r = planRequest({ store: m.store, cost, seq: q.seq ?? DEFAULT_SEQ, importance: grid }, planner, q.targetMs, q.bufferKb * 1024);
    return { m, r, planner, importance, grid };
  }

  async plan(q: PlanQuery): Promise<PlanView> {
    const { m, r, planner, importance, grid } = await this.planOf(q);
    const c = configurationOf(r.plan);
    const configHash = configurationHash(c);
    const split = this.splitKey(m, q.evalLimit);
    const cached = this.db.getQuality({ model: m.store.checksum, task: m.task, split, configHash, metric: 'accuracy' });
    const hit = cached && { accuracy: cached.value, examples: cached.count };
    const shards = r.plan.units.map((s) => ({ ...s, bytes: m.store.shardBytes(s.layer, s.slice, s.bits) }));
    return {
      query: q,
      planner,
      importance,
      layers: r.plan.layers,
      slices: r.plan.slices,
      shards,
      events: r.predicted.events,
      makespanMs: r.predicted.makespanUs / 1000,
      stallMs: r.predicted.stallUs / 1000,
      overshootMs: r.overshootMs,
      persistentBytes: r.persistentBytes,
      bufferBytes: q.bufferKb * 1024,
      streamedBytes: shards.filter((s) => !s.preload).reduce((a, s) => a + s.bytes, 0),
      planMs: r.planMs,
      configHash,
      accuracy: hit ? { accuracy: hit.accuracy, examples: hit.examples, split, cached: true } : null,
      importanceGrid: grid ?? null,
    };
  }

  async planTrace(req: { query: PlanQuery }): Promise<ExportFile> {
    const v = await this.plan(req.query);
    const trace = chromeTrace(v.events, [], {
      planner: v.planner,
      soc: req.query.soc,
      model: req.query.model,
      targetMs: req.query.targetMs,
      bufferKb: req.query.bufferKb,
      predictedMakespanMs: v.makespanMs,
      predictedStallMs: v.stallMs,
    });
    return {
      filename: `${req.query.model}-${req.query.soc}-${v.planner}-${req.query.targetMs}ms.trace.json`,
      mimeType: 'application/json',
      content: JSON.stringify(trace),
    };
  }

  // ---- sweeps ------------------------------------------------------------------------------------

  async listSweeps() {
    return this.db.listSweeps<SweepSpec>();
  }

  private sweep(id: number): SweepView {
    const s = this.db.getSweep<SweepSpec, SweepRow>(id);
    if (!s) throw new UserError(`no sweep #${id} in the experiment store (it may have been deleted); pick one from the list`);
    return s;
  }

  async getSweep(req: { id: number }): Promise<SweepView> {
    return this.sweep(req.id);
  }

  async deleteSweep(req: { id: number }): Promise<{ deleted: boolean }> {
    this.sweep(req.id);
    return { deleted: this.db.deleteSweep(req.id) };
  }

  async exportSweep(req: { id: number; format: 'html' | 'json' | 'csv' | 'trace'; row?: number }): Promise<ExportFile> {
    const s = this.sweep(req.id);
    const base = `shardlab-sweep-${s.id}`;
    if (req.format === 'trace') {
      const i = req.row ?? 0;
      const row = s.rows[i];
      if (!row) throw new UserError(`sweep #${s.id} has ${s.rows.length} rows; row ${i} does not exist`);
      // The executor's own events of that row (virtual time), as the sweep stored them.
      const trace = chromeTrace(row.events, [], { sweep: s.id, ...row, shards: undefined, events: undefined });
      return { filename: `${base}-row${i}-${row.planner}.trace.json`, mimeType: 'application/json', content: JSON.stringify(trace) };
    }
    const mime = { html: 'text/html', json: 'application/json', csv: 'text/csv' }[req.format];
    return {
      filename: `${base}.${req.format}`,
      mimeType: mime,
      content: renderReport(s, req.format, { profiles: s.spec.socs.map((id) => getSocProfile(id)), version: (await this.info()).version }),
    };
  }

  // ---- long jobs (run in a worker of their own by the hosts) --------------------------------------

  async runJob(spec: JobSpec, ctx: JobContext): Promise<unknown> {
    const progress = (done: number, total: number, stage?: string) => {
      if (ctx.signal.aborted) throw new JobCancelled();
      ctx.emit({ jobId: ctx.jobId, kind: spec.kind, type: 'progress', done, total, stage });
    };
    switch (spec.kind) {
      case 'accuracy':
        return this.accuracyJob(spec.query, progress, ctx.signal);
      case 'importance':
        return this.importanceJob(spec.model, spec.evalLimit, progress, ctx.signal);
      case 'sweep': {
        const m = await this.open(spec.sweep.model);
        const sweep = await runSweep(
          {
            model: m.dir,
            socs: spec.sweep.socs,
            targetsMs: spec.sweep.targetsMs,
            buffersKb: spec.sweep.buffersKb,
            planners: spec.sweep.planners,
            split: 'dev',
            limit: spec.sweep.limit,
            importance: IMPORTANCE_METHOD,
            seq: spec.sweep.seq ?? DEFAULT_SEQ,
          },
          this.db,
          { onProgress: (d, t, stage) => progress(d, t, stage), signal: ctx.signal },
        );
        return { id: sweep.id, rows: sweep.rows.length };
      }
      case 'live':
        return this.liveJob(spec.query, spec.slowdown ?? 1, ctx);
    }
  }

  private async withModel<T>(id: string, threads: number, f: (model: BertModel, m: OpenModel) => Promise<T>): Promise<T> {
    const m = await this.open(id);
    const { model } = await openSharded(m.dir, { threads });
    try {
      return await f(model, m);
    } finally {
      await model.release();
    }
  }

  private async accuracyJob(q: PlanQuery, progress: (d: number, t: number) => void, signal: AbortSignal) {
    const { r } = await this.planOf(q);
    const c: Configuration = configurationOf(r.plan);
    return this.withModel(q.model, 1, async (model, m) => {
      const oracle = new AccuracyOracle(model, m.store, this.db, m.task, 'dev', q.evalLimit);
      if (signal.aborted) throw new JobCancelled();
      const a = await oracle.accuracy(c, progress);
      const view: AccuracyView = { accuracy: a.accuracy, examples: a.examples, split: oracle.splitKey, cached: a.cached };
      return { ...view, configHash: a.configHash };
    });
  }

  private async importanceJob(id: string, evalLimit: number | undefined, progress: (d: number, t: number) => void, signal: AbortSignal) {
    return this.withModel(id, 1, async (model, m) => {
      const oracle = new CancellableOracle(signal, model, m.store, this.db, m.task, 'dev', evalLimit);
      const { layers, slices } = m.store.config;
      const p = await profileImportance(oracle, this.db, {
        method: 'sti',
        layers,
        slices,
        high: 32,
        low: 2,
        modelChecksum: m.store.checksum,
        onProgress: progress,
      });
      return { method: IMPORTANCE_METHOD, split: oracle.splitKey, shards: p.scores.length, evaluated: p.evaluated };
    });
  }

  private async liveJob(q: PlanQuery, slowdown: number, ctx: JobContext): Promise<LiveResult> {
    const { r, planner } = await this.planOf(q);
    const cost = this.costOf(q);
    return this.withModel(q.model, executorThreads(cost.settings.cores), async (model, m) => {
      const batch = requestBatch(model, m.task, 'dev', q.seq ?? DEFAULT_SEQ);
      let pending: TraceEvent[] = [];
      const flush = () => {
        if (pending.length) ctx.emit({ jobId: ctx.jobId, kind: 'live', type: 'trace', events: pending });
        pending = [];
      };
      const timer = setInterval(flush, 40);
      try {
        const clock = slowdown === 1 ? new RealClock() : new ScaledRealClock(slowdown);
        const run = await executePlan({
          plan: r.plan,
          store: m.store,
          model,
          cost,
          clock,
          batch,
          onEvent: (e) => {
            if (ctx.signal.aborted) throw new JobCancelled();
            pending.push(e);
          },
        });
        flush();
        return {
          planner,
          makespanMs: run.makespanUs / 1000,
          stallMs: run.stallUs / 1000,
          predictedMakespanMs: r.predicted.makespanUs / 1000,
          overruns: run.overruns.length,
          persistentBytes: run.persistentBytes,
          peakBytes: run.peakBytes,
          slowdown,
        };
      } finally {
        clearInterval(timer);
      }
    });
  }
}

export class JobCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'JobCancelled';
  }
}

/** An oracle that stops between evaluations once its job is cancelled (what is stored so far stays). */
class CancellableOracle extends AccuracyOracle {
  constructor(
    private readonly signal: AbortSignal,
    ...args: ConstructorParameters<typeof AccuracyOracle>
  ) {
    super(...args);
  }
  override accuracy(c: Configuration, onProgress?: (done: number, total: number) => void) {
    if (this.signal.aborted) throw new JobCancelled();
    return super.accuracy(c, onProgress);
  }
}
