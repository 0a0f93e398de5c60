/**
 * A BERT model opened for the generic engine (the FamilyModel contract of families/family.ts): its
 * shard store, planning, the executor with real work, the accuracy oracle and STI's importance profile.
 * The onnxruntime sessions start only when something computes, so planning stays cheap.
 */
import { ignoredNote } from './weights.js';
import { UserError } from '../../core/errors.js';
import type { Clock } from '../../pipeline/clock.js';
import { codecOfBits, type Plan, type PlanUnit } from '../../pipeline/plan.js';
import type { CostModel } from '../../soc/cost.js';
import type { ExperimentStore } from '../../store/db.js';
import type { FamilyModel, ImportanceState, ModelFamily, ModelInfo, OpenOptions, PlanningRequest, Split } from '../family.js';
import { makeBatch, syntheticTokens, type Batch } from './batch.js';
import { configurationOf } from './plan/plan.js';
import { DEFAULT_IMPORTANCE, ensureImportance, parseImportance, servingImportance } from './importance.js';
import { BertModel } from './model.js';
import { openStore } from './open.js';
import { AccuracyOracle, splitKey } from './oracle.js';
import { loadOptimalSolver } from './plan/optimal.js';
import { plannerNames } from './plan/planners.js';
import { planRequest, RANKING_PLANNERS } from './plan/request.js';
import { executePlan, predictPlan } from './program.js';
import { dryRunPlan } from './dry-run.js';
import { TextEncoder } from './tokenizer.js';
import { configurationHash } from './configuration.js';
import { requireTask, taskLabels } from './datasets.js';
import { loadDataFile, recordDataFile, splitCount, splitExamples, taskKey, type TaskSource } from './data-file.js';
import type { ShardStore } from './shard-store.js';
import type { TraceEvent } from '../../pipeline/trace.js';

export async function openBert(family: ModelFamily, dir: string, opts: OpenOptions): Promise<BertFamilyModel> {
  return new BertFamilyModel(family, dir, openStore(dir, opts.onPrepare), opts);
}

export class BertFamilyModel implements FamilyModel {
  readonly info: ModelInfo;
  /** The task quality is measured on: the model's own, or a data file given with OpenOptions.data. */
  private readonly task?: TaskSource;
  private readonly db: ExperimentStore;
  private session?: Promise<BertModel>;

  constructor(
    readonly family: ModelFamily,
    readonly dir: string,
    readonly store: ShardStore,
    private readonly opts: OpenOptions,
  ) {
    this.db = opts.db;
    const c = store.config;
    // A checkpoint as Hugging Face ships it names no task of its own: it measures on a data file, or plans only.
    this.task = c.shapeOnly
      ? undefined
      : opts.data !== undefined
        ? loadDataFile(opts.data, c)
        : c.task !== undefined
          ? requireTask(c.task)
          : undefined;
    const task = this.task;
    if (typeof task === 'object') recordDataFile(this.db, task);
    this.info = {
      family: family.id,
      checksum: store.checksum,
      task: task && taskKey(task),
      labels: typeof task === 'object' ? c.labels : task ? taskLabels(task) : c.shapeOnly ? [] : c.labels,
      layers: c.layers,
      slices: c.slices,
      hidden: c.hidden,
      bits: store.bits,
      ...(store.ignored.length ? { ignored: ignoredNote(store.ignored) } : {}),
      // Counted when asked: cutting a corpus was ~0.4 s of every command's start-up.
      get devExamples() {
        return task ? splitCount(task, 'dev') : 0;
      },
    };
  }

  /** The runtime sessions, started on first use. */
  model(): Promise<BertModel> {
    this.session ??= BertModel.create(this.store.dir, this.store.config, this.store.base(), { threads: this.opts.threads });
    return this.session;
  }

  async release(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (s) await (await s).release();
  }

  plannerNames(): string[] {
    return plannerNames(this.store.bits);
  }

  ranks(planner: string): boolean {
    return RANKING_PLANNERS.includes(planner);
  }

  unranked(): string {
    return 'sti-uniform';
  }

  predict(plan: Plan, cost: CostModel, seq: number) {
    return predictPlan({ plan, cost, shape: this.store.config, seq, bytesOf: (u) => this.unitBytes(u) });
  }

  configHash(plan: Plan): string {
    return configurationHash(configurationOf(plan));
  }

  private needTask(what: string): TaskSource {
    if (!this.task && this.store.config.shapeOnly)
      throw new UserError(`${this.dir} is a shape-only model with random weights; ${what} is not applicable`);
    if (!this.task)
      throw new UserError(
        `${this.dir} names no task of its own (config.json has no shardlab.task); ${what} needs a labelled data file of yours: --data FILE (in the workbench: Setup's 'Your own data')`,
      );
    return this.task;
  }

  private readonly oracles = new Map<string, AccuracyOracle>();

  /** One oracle per split and limit (each holds its examples, loaded once). */
  private oracle(where: Split): AccuracyOracle {
    const key = `${where.split}:${where.limit ?? ''}`;
    let o = this.oracles.get(key);
    if (!o) {
      o = new AccuracyOracle(() => this.model(), this.store, this.db, this.needTask('accuracy'), where.split, where.limit);
      this.oracles.set(key, o);
    }
    return o;
  }

  /** The stored profile serving `limit` examples of dev (see servingImportance); split says which profile it is. */
  importance(limit?: number, method = DEFAULT_IMPORTANCE): ImportanceState {
    const task = taskKey(this.needTask('importance'));
    parseImportance(method, this.store.bits);
    const all = this.info.devExamples;
    const want = Math.min(limit ?? all, all);
    const key = { model: this.store.checksum, task, method };
    const have = servingImportance(this.db, key, { split: 'dev', want, all }, this.info.layers, this.info.slices);
    return { grid: have?.grid, split: have?.split ?? splitKey('dev', want, all), method };
  }

  async ensureImportance(
    limit: number | undefined,
    o: { method?: string; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<ImportanceState & { grid: number[][]; evaluated: number }> {
    const method = o.method ?? DEFAULT_IMPORTANCE;
    const oracle = this.oracle({ split: 'dev', limit });
    const r = await ensureImportance(oracle, this.db, this.store, method, o.onProgress);
    return { ...r, method };
  }

  async preparePlanners(names: string[]): Promise<void> {
    if (names.includes('optimal')) await loadOptimalSolver();
  }

  plan(cost: CostModel, req: PlanningRequest) {
    return planRequest({ store: this.store, cost, seq: req.seq, importance: req.importance }, req.planner, req.targetMs, req.bufferBytes);
  }

  unitBytes(u: PlanUnit): number {
    return this.store.shardBytes(u.layer, u.slice, u.bits);
  }

  checkPlan(plan: Plan): Plan {
    const { layers, slices, bits } = this.info;
    const bad = (why: string) => new UserError(`plan ${plan.planner}: ${why}`);
    if (plan.family !== 'bert') throw bad(`made for the ${plan.family} family, not bert`);
    if (!(plan.layers >= 1 && plan.layers <= layers && plan.slices >= 1 && plan.slices <= slices))
      throw bad(`${plan.layers} x ${plan.slices} does not fit the model's ${layers} layers x ${slices} slices`);
    if (plan.units.length !== plan.layers * plan.slices)
      throw bad(`has ${plan.units.length} shards, a ${plan.layers} x ${plan.slices} submodel has ${plan.layers * plan.slices}`);
    const units = plan.units.map((u, i) => {
      const [layer, slice] = [Math.floor(i / plan.slices), i % plan.slices];
      if (u.layer !== layer || u.slice !== slice)
        throw bad(`shard ${i} is L${u.layer} S${u.slice}, expected L${layer} S${slice} (layer-major order)`);
      if (!bits.includes(u.bits)) throw bad(`shard L${layer} S${slice} at ${u.bits} bits; the store holds ${bits.join(', ')}`);
      return { layer, slice, bits: u.bits, preload: u.preload, codec: codecOfBits(u.bits) };
    });
    return { ...plan, units };
  }

  private readonly requests = new Map<string, Promise<Batch>>();

  /** The request every run executes: the first example of the split with at least `seq` tokens, cut to `seq`. */
  request(split: 'dev' | 'test', seq: number): Promise<Batch> {
    const key = `${split}:${seq}`;
    let r = this.requests.get(key);
    if (!r) {
      r = this.makeRequest(split, seq);
      this.requests.set(key, r);
      r.catch(() => this.requests.delete(key));
    }
    return r;
  }

  private encoder?: TextEncoder;

  /** The checkpoint's tokenizer, as the runtime sessions load it, without starting them (a dry run needs no runtime). */
  private tokenizer(): TextEncoder {
    const c = this.store.config;
    this.encoder ??= TextEncoder.fromDir(this.store.dir, c.maxPositions, c.vocabSize);
    return this.encoder;
  }

  private async makeRequest(split: 'dev' | 'test', seq: number): Promise<Batch> {
    if (!this.task) return makeBatch([syntheticTokens(seq, this.store.config.vocabSize)]);
    const tokenizer = this.tokenizer();
    let best: Int32Array | undefined;
    let types: Uint8Array | undefined;
    for (const e of splitExamples(this.task, split)) {
      const { ids, types: t } = tokenizer.encodeExample(e);
      if (!best || ids.length > best.length) [best, types] = [Int32Array.from(ids), t];
      if (ids.length >= seq) break;
    }
    if (!best) throw new UserError(`${typeof this.task === 'string' ? `task ${this.task}` : this.task.file} has no ${split} examples`);
    return makeBatch([best.length > seq ? best.subarray(0, seq) : best], [types?.subarray(0, seq)]);
  }

  async run(
    plan: Plan,
    cost: CostModel,
    clock: Clock,
    o: { split?: 'dev' | 'test'; seq: number; onEvent?: (e: TraceEvent) => void; dryRun?: boolean },
  ) {
    const batch = await this.request(o.split ?? 'dev', o.seq);
    if (o.dryRun) return dryRunPlan({ plan, store: this.store, cost, clock, batch, onEvent: o.onEvent });
    // The Live view's first real-time run would otherwise pay the cold costs shardlab run --mode real warms away.
    const warmUp = clock.mode === 'real';
    return executePlan({ plan, store: this.store, model: await this.model(), cost, clock, batch, onEvent: o.onEvent, warmUp });
  }

  async quality(plan: Plan, where: Split, o: { onProgress?: (done: number, total: number) => void } = {}) {
    const oracle = this.oracle(where);
    return { ...(await oracle.quality(configurationOf(plan), o.onProgress)), split: oracle.splitKey };
  }

  cachedQuality(plan: Plan, where: Split) {
    if (!this.task) return undefined;
    const oracle = this.oracle(where);
    const a = oracle.cachedQuality(configurationOf(plan));
    return a && { ...a, split: oracle.splitKey };
  }
}
