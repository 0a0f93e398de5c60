/**
 * The WorkbenchApi over the engine: SoC profiles, the bundled models, planning (pure, microseconds:
 * what the What-if view calls while a slider drags), stored importance and accuracy, sweeps and their
 * exports, and the long jobs (accuracy, importance profile, sweep, real-time run) that hosts run in a
 * worker of their own. No Electron, no React, no HTTP: hosts validate payloads (validate.ts) and call in.
 */
import { isRwkvSpec } from '../sweep/rwkv-types.js';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../core/errors.js';
import { BUNDLED_MODELS_DIR, bundledModels, dataDir } from '../core/paths.js';
import { timeLeft } from '../core/progress.js';
import {
  checkDataFile,
  describeCheckpoint,
  familyOf,
  rwkvNumbers,
  type FamilyModel,
  type PlannedRequest,
  type TokenWorkbench,
} from '../families/index.js';
import { RealClock } from '../pipeline/clock.js';
import { executorThreads } from '../pipeline/executor.js';
import { DEFAULT_BUFFER_KB, meetsTarget, type Plan } from '../pipeline/plan.js';
import { chromeTrace, inFlightMemory, type TraceEvent } from '../pipeline/trace.js';
import { renderReport } from '../report/report.js';
import { costModelOf, resolveSettings, type CostModel } from '../soc/cost.js';
import { getSocProfile, loadSocProfileFiles, parseSocProfile, userSocsDir } from '../soc/load.js';
import { ExperimentStore } from '../store/db.js';
import { runSweep } from '../sweep/sweep.js';
import type { SweepRow, SweepSpec } from '../sweep/types.js';
import type {
  AccuracyView,
  AppInfo,
  CheckDataQuery,
  DataCheckView,
  ExportFile,
  ImportedModelView,
  ImportModelQuery,
  JobEvent,
  JobSpec,
  LiveResult,
  ModelEntry,
  ModelQuery,
  PlanAllQuery,
  PlannerSummary,
  PlanQuery,
  PlanView,
  RwkvGridQuery,
  RwkvGridView,
  RwkvLiveResult,
  RwkvQuality,
  RwkvQuery,
  RwkvRun,
  RwkvTechniques,
  RwkvWhatIfView,
  SaveSocRequest,
  SocEntry,
  SweepView,
  TargetRange,
  TargetRangeQuery,
  WorkbenchApi,
} from './api.js';
import { ScaledRealClock } from './scaled-clock.js';
import { addRwkvRun, listRwkvRuns } from './rwkv-runs.js';
import { importedId, importProblem, readImports, rememberChecksum, saveImport } from './imports.js';

const PACKAGE_JSON = fileURLToPath(new URL('../../../package.json', import.meta.url));

export const DEFAULTS: AppInfo['defaults'] = {
  soc: 'odroid-n2plus',
  model: 'bert-spam',
  planner: 'sti',
  comparePlanner: 'stdpl-32',
  targetMs: 120,
  bufferKb: DEFAULT_BUFFER_KB,
};

export interface JobContext {
  jobId: string;
  emit(e: JobEvent): void;
  signal: AbortSignal;
}

export class WorkbenchService implements Omit<WorkbenchApi, 'startJob' | 'cancelJob' | 'listJobs'> {
  private readonly models = new Map<string, Promise<FamilyModel>>();
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

  /** A bundled model opened for planning (no runtime sessions); kept for the service's life. */
  private open(id: string, data?: string): Promise<FamilyModel> {
    // A data file is read when the model is opened with it: kept by its path and content, so an edited file is read again.
    const key = data === undefined ? id : `${id}\u0000${resolve(data)}\u0000${dataStamp(data)}`;
    let p = this.models.get(key);
    if (!p) {
      p = this.openModel(id, data);
      this.models.set(key, p);
      p.catch(() => this.models.delete(key));
    }
    return p;
  }

  private modelDir(id: string): string {
    if (bundledModels().includes(id)) return join(BUNDLED_MODELS_DIR, id);
    const imported = readImports().find((m) => m.id === id);
    if (!imported) {
      const known = [...bundledModels(), ...readImports().map((m) => m.id)];
      throw new UserError(`unknown model "${id}"; the workbench has ${known.join(', ') || 'no models in fixtures/models'}`);
    }
    const problem = importProblem(imported);
    if (problem) throw new UserError(problem);
    return imported.dir;
  }

  private async openModel(id: string, data?: string): Promise<FamilyModel> {
    const dir = this.modelDir(id);
    const m = await familyOf(dir).open(dir, { db: this.db, threads: 1, ...dataOption(dir, data) });
    // An imported checkpoint may have no task of its own: it plans, and measures on a data file.
    if (!m.info.task && !id.startsWith('imported-'))
      throw new UserError(`${id} is a shape-only model with random weights; the workbench needs a model trained on a task`);
    return m;
  }

  /**
   * Your own model: a checkpoint directory opened by the engine (its refusals are the engine's one-line
   * messages), registered as an imported model in the data directory, and what was detected in it.
   */
  async importModel(req: ImportModelQuery): Promise<ImportedModelView> {
    const dir = resolve(req.dir);
    if (!existsSync(dir))
      throw new UserError(`${dir}: no such directory; import takes a model directory (config.json, model.safetensors, a tokenizer)`);
    if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: not a directory; import takes a model directory, not a file`);
    const family = familyOf(dir);
    if (family.id !== 'bert')
      throw new UserError(
        `${dir}: a ${family.id} model; the workbench imports BERT, DistilBERT and RoBERTa classifier checkpoints (use the shardlab command for others)`,
      );
    const m = await family.open(dir, { db: this.db, threads: 1 });
    const facts = await describeCheckpoint(dir);
    // The checkpoint's checksum, as opening it computed it (hashing a large checkpoint again would read it twice).
    const checksum = m.info.checksum;
    const view: ImportedModelView = {
      id: importedId(dir, checksum),
      dir,
      family: m.info.family,
      architecture: facts.architecture,
      layers: facts.layers,
      heads: facts.heads,
      hidden: facts.hidden,
      ffn: facts.ffn,
      labels: facts.labels,
      tokenizer: facts.tokenizer,
      dtype: facts.dtype,
      ignored: facts.ignored,
      checksum,
      task: m.info.task ?? null,
      importedAt: new Date().toISOString(),
    };
    if (bundledModels().includes(view.id))
      throw new UserError(`${view.id} is a bundled model's name; rename the directory and import it again`);
    saveImport(view);
    rememberChecksum(dir, checksum);
    // Opened again from the list (same directory, same checksum): the model just opened is the one kept.
    this.models.set(view.id, Promise.resolve(m));
    return view;
  }

  /** Your own data: a JSONL or CSV file read and checked (against the model's labels when one is named); never throws for a bad file. */
  async checkData(req: CheckDataQuery): Promise<DataCheckView> {
    const labels = req.model ? (await this.open(req.model)).info.labels : undefined;
    return checkDataFile(resolve(req.path), labels && { labels });
  }

  /**
   * The imported models to list. A damaged imported-models.json must not take the bundled models with it: it
   * is left as it is, named on the engine's log, and named again by importModel and by any query of an imported id.
   */
  private listedImports(): ImportedModelView[] {
    try {
      return readImports();
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      console.error(`shardlab workbench: ${e.message}`);
      return [];
    }
  }

  async listModels(): Promise<ModelEntry[]> {
    const out: ModelEntry[] = [];
    const all = bundledModels();
    for (const id of all) {
      const dir = join(BUNDLED_MODELS_DIR, id);
      const fam = familyOf(dir);
      if (fam.workbench) {
        // A token-by-token family's model is listed from its own description (RWKV: not opened for STI planning).
        const e = await fam
          .workbench()
          .then((w) => w.entry(id, dir, all))
          .catch(() => undefined);
        if (e) out.push(e);
        continue;
      }
      const m = await this.open(id).catch(() => undefined);
      if (!m) continue;
      const { family, labels, layers, slices, hidden, bits, devExamples } = m.info;
      out.push({ id, family, task: m.info.task!, labels, layers, slices, hidden, bits, devExamples });
    }
    // Imported models: listed even when their directory was removed or changed since (with the problem, from what was detected then).
    for (const v of this.listedImports()) {
      const problem = importProblem(v);
      const m = problem ? undefined : await this.open(v.id).catch((e: Error) => e);
      if (m && !(m instanceof Error)) {
        const { family, labels, layers, slices, hidden, bits, devExamples } = m.info;
        out.push({ id: v.id, family, task: m.info.task ?? '', labels, layers, slices, hidden, bits, devExamples, imported: v });
      } else {
        const why = problem ?? (m as Error).message;
        out.push({
          id: v.id,
          family: v.family,
          task: v.task ?? '',
          labels: v.labels,
          layers: v.layers,
          slices: v.heads,
          hidden: v.hidden,
          bits: [],
          devExamples: 0,
          imported: { ...v, problem: why },
        });
      }
    }
    return out;
  }

  async planners(req: ModelQuery): Promise<string[]> {
    return (await this.open(req.model)).plannerNames();
  }

  // ---- planning ----------------------------------------------------------------------------------

  async importance(req: ModelQuery): Promise<number[][] | null> {
    const m = await this.open(req.model, req.data);
    if (!m.info.task) return null;
    return m.importance(req.evalLimit).grid ?? null;
  }

  private costOf(q: PlanQuery): CostModel {
    const profile = getSocProfile(q.soc);
    return costModelOf(profile, resolveSettings(profile, q.settings ?? {}));
  }

  /**
   * Plans a query. A ranking planner whose importance profile is missing cannot wait for it here (a
   * slider is moving): it plans with the family's stand-in planner and says so (importance: 'missing');
   * the UI then runs the same profile the CLI and sweeps run first.
   */
  private async planOf(
    q: PlanQuery,
  ): Promise<{ m: FamilyModel; r: PlannedRequest; planner: string; importance: PlanView['importance']; grid?: number[][] }> {
    const m = await this.open(q.model, q.data);
    const cost = this.costOf(q);
    const known = m.plannerNames();
    if (!known.includes(q.planner)) throw new UserError(`unknown planner "${q.planner}": use one of ${known.join(', ')}`);
    // A model with nothing to measure on (an imported checkpoint without a data file) has no importance: planned uniformly.
    const grid = m.info.task ? m.importance(q.evalLimit).grid : undefined;
    let planner = q.planner;
    let importance: PlanView['importance'] = m.info.task ? 'unused' : 'needs-data';
    if (m.ranks(q.planner)) {
      if (m.info.task) importance = grid ? 'stored' : 'missing';
      if (!grid) planner = m.unranked(q.planner);
    }
    await m.preparePlanners([planner]);
    const r = m.plan(cost, {
      planner,
      targetMs: q.targetMs,
      bufferBytes: q.bufferKb * 1024,
      seq: q.seq ?? m.family.defaultSeq,
      importance: grid,
    });
    return { m, r, planner, importance, grid };
  }

  async plan(q: PlanQuery): Promise<PlanView> {
    const { m, r, planner, importance, grid } = await this.planOf(q);
    const hit = m.cachedQuality(r.plan, { split: 'dev', limit: q.evalLimit });
    const shards = r.plan.units.map((s) => ({ layer: s.layer, slice: s.slice, bits: s.bits, preload: s.preload, bytes: m.unitBytes(s) }));
    const makespanMs = r.predicted.makespanUs / 1000;
    return {
      query: q,
      planner,
      importance,
      plan: r.plan,
      layers: r.plan.layers,
      slices: r.plan.slices,
      shards,
      events: r.predicted.events,
      memory: inFlightMemory(r.predicted.events, r.persistentBytes),
      makespanMs,
      stallMs: r.predicted.stallUs / 1000,
      overshootMs: r.overshootMs,
      meetsTarget: meetsTarget(makespanMs, q.targetMs),
      persistentBytes: r.persistentBytes,
      bufferBytes: q.bufferKb * 1024,
      streamedBytes: shards.filter((s) => !s.preload).reduce((a, s) => a + s.bytes, 0),
      planMs: r.planMs,
      configHash: hit?.configHash ?? m.configHash(r.plan),
      accuracy: hit ? { accuracy: hit.value, examples: hit.count, split: hit.split, cached: true } : null,
      importanceGrid: grid ?? null,
    };
  }

  /** Every planner of the model at one request (What-if's table): plans are milliseconds; accuracy is read from the cache only. */
  async planAll(q: PlanAllQuery): Promise<PlannerSummary[]> {
    const m = await this.open(q.model, q.data);
    const out: PlannerSummary[] = [];
    for (const planner of m.plannerNames()) {
      const { r, planner: madeBy } = await this.planOf({ ...q, planner });
      const makespanMs = r.predicted.makespanUs / 1000;
      const hit = m.cachedQuality(r.plan, { split: 'dev', limit: q.evalLimit });
      out.push({
        planner,
        madeBy,
        layers: r.plan.layers,
        slices: r.plan.slices,
        makespanMs,
        stallMs: r.predicted.stallUs / 1000,
        meetsTarget: meetsTarget(makespanMs, q.targetMs),
        persistentBytes: r.persistentBytes,
        bufferBytes: q.bufferKb * 1024,
        accuracy: hit ? { accuracy: hit.value, examples: hit.count, split: hit.split, cached: true } : null,
      });
    }
    return out;
  }

  /**
   * The targets worth offering on a SoC for a model: from the fastest plan (the smallest submodel every
   * planner falls back to when nothing fits) to the whole model at its widest bits streamed layer by
   * layer. Planned with the uniform planners only, so the answer needs no importance profile.
   */
  async targetRange(q: TargetRangeQuery): Promise<TargetRange> {
    const m = await this.open(q.model);
    const makespan = async (planner: string, targetMs: number) =>
      (await this.planOf({ ...q, planner, targetMs })).r.predicted.makespanUs / 1000;
    const fastestMs = await makespan(m.unranked('sti'), 1e-3);
    const widest = Math.max(...m.info.bits);
    const layerwise = m.plannerNames().find((p) => p === `stdpl-${widest}`);
    const slowestMs = Math.max(fastestMs, layerwise ? await makespan(layerwise, 600_000) : await makespan(m.unranked('sti'), 600_000));
    return { fastestMs, slowestMs, minMs: niceDown(fastestMs * 0.6), maxMs: niceUp(slowestMs * 1.5) };
  }

  async planTrace(req: { query: PlanQuery }): Promise<ExportFile> {
    const v = await this.plan(req.query);
    const trace = chromeTrace(v.events, v.memory, {
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

  // ---- RWKV ----------------------------------------------------------------------------------------

  /** An RWKV model's directory and its family's workbench (through the registry). */
  private async rwkv(id: string): Promise<{ dir: string; w: TokenWorkbench }> {
    const dir = this.modelDir(id);
    const family = familyOf(dir);
    if (family.id !== 'rwkv' || !family.workbench)
      throw new UserError(`${id} is not an RWKV model; the RWKV views need one (pick it in Setup)`);
    return { dir, w: await family.workbench() };
  }

  /** An SoC's cost model for RWKV: its CPU (RNN-mode steps are memory-bound; RWKV runs there, as on the command line). */
  private rwkvCost(soc: string): CostModel {
    const profile = getSocProfile(soc);
    return costModelOf(profile, resolveSettings(profile, { computeUnit: 'cpu' }));
  }

  async rwkvWhatIf(q: RwkvQuery): Promise<RwkvWhatIfView> {
    const { dir, w } = await this.rwkv(q.model);
    return w.whatIf(dir, this.rwkvCost(q.soc), this.db, q);
  }

  async rwkvGrid(q: RwkvGridQuery): Promise<RwkvGridView> {
    const { dir, w } = await this.rwkv(q.model);
    return w.grid(dir, this.rwkvCost(q.soc), this.db, q);
  }

  async recordRwkvPlan(q: RwkvQuery): Promise<RwkvRun> {
    const v = await this.rwkvWhatIf(q);
    const numbers = rwkvNumbers(v.prediction);
    return addRwkvRun({
      kind: 'plan',
      soc: q.soc,
      model: q.model,
      setting: v.setting,
      memoryMb: q.memoryMb,
      ...(q.tokenMs !== undefined && { tokenMs: q.tokenMs }),
      numbers: { ...numbers, embHitRate: v.stats.embHitRate },
      quality: v.quality,
    });
  }

  async listRwkvRuns(): Promise<RwkvRun[]> {
    return listRwkvRuns();
  }

  // ---- sweeps ------------------------------------------------------------------------------------

  /** The stored BERT sweeps: the views draw targets, buffers and planners; an RWKV sweep's report is `shardlab report ID`. */
  async listSweeps() {
    return this.db.listSweeps<SweepSpec>().filter((s) => !isRwkvSpec(s.spec));
  }

  private async sweep(id: number): Promise<SweepView> {
    const s = this.db.getSweep<SweepSpec, SweepRow>(id);
    if (!s) throw new UserError(`no sweep #${id} in the experiment store (it may have been deleted); pick one from the list`);
    if (isRwkvSpec(s.spec)) throw new UserError(`sweep #${id} is an RWKV sweep: its report is \`shardlab report ${id}\``);
    return { ...s, examples: await this.sweepExamples(s.spec) };
  }

  /** The examples a sweep's accuracies were measured on: its limit, or the whole dev split of its (bundled) model. */
  private async sweepExamples(spec: SweepSpec): Promise<number | null> {
    const id = spec.model.split(/[\\/]/).filter(Boolean).at(-1) ?? '';
    const dev =
      spec.split === 'dev'
        ? await this.open(id).then(
            (m) => m.info.devExamples,
            () => undefined,
          )
        : undefined;
    if (spec.limit) return dev ? Math.min(spec.limit, dev) : spec.limit;
    return dev ?? null;
  }

  async getSweep(req: { id: number }): Promise<SweepView> {
    return this.sweep(req.id);
  }

  async deleteSweep(req: { id: number }): Promise<{ deleted: boolean }> {
    await this.sweep(req.id);
    return { deleted: this.db.deleteSweep(req.id) };
  }

  async exportSweep(req: { id: number; format: 'html' | 'json' | 'csv' | 'trace'; row?: number }): Promise<ExportFile> {
    const s = await this.sweep(req.id);
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
      content: renderReport(s, req.format, {
        profiles: s.spec.socs.map((id) => getSocProfile(id)),
        version: (await this.info()).version,
        examples: s.examples ?? undefined,
      }),
    };
  }

  // ---- long jobs (run in a worker of their own by the hosts) --------------------------------------

  async runJob(spec: JobSpec, ctx: JobContext): Promise<unknown> {
    // Time left from the rate so far, measured afresh for each stage (a sweep profiles, then runs rows).
    let eta = { stage: undefined as string | undefined, left: timeLeft() };
    const progress = (done: number, total: number, stage?: string) => {
      if (ctx.signal.aborted) throw new JobCancelled();
      if (stage !== eta.stage) eta = { stage, left: timeLeft() };
      const etaMs = eta.left(done, total);
      ctx.emit({ jobId: ctx.jobId, kind: spec.kind, type: 'progress', done, total, stage, ...(etaMs === undefined ? {} : { etaMs }) });
    };
    switch (spec.kind) {
      case 'accuracy':
        return this.accuracyJob(spec.query, spec.plan as Plan | undefined, progress);
      case 'importance':
        return this.importanceJob(spec.model, spec.evalLimit, progress, spec.data);
      case 'sweep': {
        const m = await this.open(spec.sweep.model, spec.sweep.data);
        const sweep = await runSweep(
          {
            model: m.dir,
            socs: spec.sweep.socs,
            targetsMs: spec.sweep.targetsMs,
            buffersKb: spec.sweep.buffersKb,
            planners: spec.sweep.planners,
            split: 'dev',
            limit: spec.sweep.limit,
            importance: m.importance().method,
            seq: spec.sweep.seq ?? m.family.defaultSeq,
            ...(spec.sweep.data !== undefined && { data: resolve(spec.sweep.data) }),
          },
          this.db,
          { onProgress: (d, t, stage) => progress(d, t, stage), signal: ctx.signal },
        );
        return { id: sweep.id, rows: sweep.rows.length };
      }
      case 'live':
        return this.liveJob(spec.query, spec.plan as Plan | undefined, spec.slowdown ?? 1, ctx);
      case 'rwkv-quality':
        return this.rwkvQualityJob(spec.model, spec.techniques, spec.limit, progress, ctx.signal);
      case 'rwkv-live':
        return this.rwkvLiveJob(spec, ctx);
    }
  }

  private async rwkvQualityJob(
    model: string,
    techniques: RwkvTechniques | undefined,
    limit: number | undefined,
    progress: (d: number, t: number, stage?: string) => void,
    signal: AbortSignal,
  ): Promise<{ measured: number; quality: RwkvQuality | null }> {
    const { dir, w } = await this.rwkv(model);
    return w.quality(dir, this.db, techniques, limit, progress, signal);
  }

  /** A real generation in slow motion, its events and tokens sent in batches as they happen, then stored as an experiment. */
  private async rwkvLiveJob(spec: Extract<JobSpec, { kind: 'rwkv-live' }>, ctx: JobContext): Promise<RwkvLiveResult> {
    const { dir, w } = await this.rwkv(spec.model);
    const cost = this.rwkvCost(spec.soc);
    const slowdown = spec.slowdown ?? 1;
    let events: TraceEvent[] = [];
    let tokens: { index: number; text: string; atUs: number }[] = [];
    const flush = () => {
      if (events.length) ctx.emit({ jobId: ctx.jobId, kind: 'rwkv-live', type: 'trace', events });
      if (tokens.length) ctx.emit({ jobId: ctx.jobId, kind: 'rwkv-live', type: 'tokens', tokens });
      events = [];
      tokens = [];
    };
    const timer = setInterval(flush, 40);
    try {
      const clock = slowdown === 1 ? new RealClock() : new ScaledRealClock(slowdown);
      const r = await w.live(dir, cost, this.db, spec, clock, {
        threads: executorThreads(cost.settings.cores),
        event: (e) => {
          if (ctx.signal.aborted) throw new JobCancelled();
          events.push(e);
        },
        token: (t) => tokens.push(t),
      });
      flush();
      const stored = addRwkvRun({
        kind: 'live',
        soc: spec.soc,
        model: spec.model,
        setting: r.setting,
        numbers: {
          tokenMs: r.tokenLatencyMsP50,
          tokensPerSecond: r.tokensPerSecond,
          firstTokenMs: r.firstTokenMs,
          stallMsPerToken: r.stallMsPerStep,
          ioBytesPerToken: r.ioBytesPerToken,
          persistentBytes: r.persistentBytes,
          peakBytes: r.peakBytes,
          stallMs: r.stallMs,
          tokens: r.tokens,
          ...(r.embCache && { embHitRate: r.embCache.hitRate }),
        },
        quality: r.quality,
        text: r.text,
      });
      return { ...r, family: 'rwkv', prompt: spec.prompt, slowdown, runId: stored.id };
    } finally {
      clearInterval(timer);
    }
  }

  /** A job's own opened model (its runtime sessions with the job's threads), released when it ends. */
  private async withModel<T>({ id, data }: { id: string; data?: string }, threads: number, f: (m: FamilyModel) => Promise<T>): Promise<T> {
    const dir = this.modelDir(id);
    const m = await familyOf(dir).open(dir, { db: this.db, threads, ...dataOption(dir, data) });
    try {
      return await f(m);
    } finally {
      await m.release();
    }
  }

  /** The plan a job scores or runs: the one the user sees (sent with the job), checked; else the query planned now. */
  private async jobPlan(q: PlanQuery, sent: Plan | undefined, m: FamilyModel): Promise<{ plan: Plan; predictedMs: number }> {
    if (!sent) {
      const { r } = await this.planOf(q);
      return { plan: r.plan, predictedMs: r.predicted.makespanUs / 1000 };
    }
    const plan = m.checkPlan(sent);
    return { plan, predictedMs: m.predict(plan, this.costOf(q), q.seq ?? m.family.defaultSeq).makespanUs / 1000 };
  }

  private async accuracyJob(q: PlanQuery, sent: Plan | undefined, progress: (d: number, t: number) => void) {
    return this.withModel({ id: q.model, data: q.data }, 1, async (m) => {
      const { plan } = await this.jobPlan(q, sent, m);
      const a = await m.quality(plan, { split: 'dev', limit: q.evalLimit }, { onProgress: progress });
      const view: AccuracyView = { accuracy: a.value, examples: a.count, split: a.split, cached: a.cached };
      return { ...view, configHash: a.configHash };
    });
  }

  private async importanceJob(id: string, evalLimit: number | undefined, progress: (d: number, t: number) => void, data?: string) {
    return this.withModel({ id, data }, 1, async (m) => {
      const r = await m.ensureImportance(evalLimit, { onProgress: progress });
      return { method: r.method, split: r.split, shards: m.info.layers * m.info.slices, evaluated: r.evaluated };
    });
  }

  private async liveJob(q: PlanQuery, sent: Plan | undefined, slowdown: number, ctx: JobContext): Promise<LiveResult> {
    const cost = this.costOf(q);
    return this.withModel({ id: q.model, data: q.data }, executorThreads(cost.settings.cores), async (m) => {
      const { plan, predictedMs } = await this.jobPlan(q, sent, m);
      let pending: TraceEvent[] = [];
      const flush = () => {
        if (pending.length) ctx.emit({ jobId: ctx.jobId, kind: 'live', type: 'trace', events: pending });
        pending = [];
      };
      const timer = setInterval(flush, 40);
      try {
        const clock = slowdown === 1 ? new RealClock() : new ScaledRealClock(slowdown);
        const run = await m.run(plan, cost, clock, {
          seq: q.seq ?? m.family.defaultSeq,
          onEvent: (e) => {
            if (ctx.signal.aborted) throw new JobCancelled();
            pending.push(e);
          },
        });
        flush();
        return {
          planner: plan.planner,
          makespanMs: run.makespanUs / 1000,
          stallMs: run.stallUs / 1000,
          predictedMakespanMs: predictedMs,
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

/** Two significant digits, rounded down / up: slider ends that read well (0.93 → 0.93, 7.46 → 7.4, 1234 → 1300). */
const niceDown = (x: number) => {
  const mag = 10 ** (Math.floor(Math.log10(x)) - 1);
  return Number((Math.floor(x / mag) * mag).toPrecision(2));
};
const niceUp = (x: number) => {
  const mag = 10 ** (Math.floor(Math.log10(x)) - 1);
  return Number((Math.ceil(x / mag) * mag).toPrecision(2));
};

export class JobCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'JobCancelled';
  }
}

/** OpenOptions' data file, for BERT models (other families measure their own corpora). */
function dataOption(dir: string, data: string | undefined): { data?: string } {
  if (data === undefined) return {};
  if (familyOf(dir).id !== 'bert') throw new UserError('your own data is for BERT classifiers; this model measures its own corpus');
  return { data: resolve(data) };
}

/** A data file's size and modification time: a changed file opens its model again (its content hash is read then). */
function dataStamp(data: string): string {
  try {
    const s = statSync(data);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
