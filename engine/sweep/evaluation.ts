/**
 * One configuration's quality evaluation, away from the sweep that needs it: in a pool thread on this
 * machine or in a queue worker on another. The job names the model by path and checksum; the evaluator
 * opens the model at a path it can resolve, refuses a different model, measures the configuration and
 * answers with the quality row the submitter stores in its own experiment store.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../core/errors.js';
import { getFamily, type FamilyModel, type Split } from '../families/index.js';
import type { Plan } from '../pipeline/plan.js';
import { ExperimentStore, type QualityRow } from '../store/db.js';

/** What a worker needs to evaluate one configuration (plain JSON: it travels through Redis). */
export interface EvaluationJob {
  /** The model directory on the submitter's machine (absolute). */
  model: string;
  /** The submitter's model checksum; a worker refuses a model that differs. */
  checksum: string;
  family: string;
  /** The task its quality is measured on. */
  task: string;
  /** The data file (absolute path) quality is measured on instead of the model's task (`--data`), when the task is `data:<hash>`. */
  data?: string;
  where: Split;
  /** A plan of the configuration (its layers, slices and units' bits are what is measured). */
  plan: Plan;
  configHash: string;
}

/** A configuration the sweep needs a quality for and the experiment store lacks. */
export interface PendingEvaluation {
  /** The configuration's hash, as the sweep keys it. */
  key: string;
  job: EvaluationJob;
}

/**
 * Evaluates a sweep's pending configurations, calling `stored(key)` once each answer is in the sweep's
 * store. The sweep runs in-process, on a pool of threads or through a queue: the rows are the same.
 */
export type EvaluateMissing = (
  pending: PendingEvaluation[],
  ctx: { db: ExperimentStore; model: FamilyModel; stored: (key: string) => void; signal?: AbortSignal },
) => Promise<void>;

export interface EvaluatorOptions {
  /** onnxruntime threads per opened model. */
  threads: number;
  /** A folder the worker keeps models in: a job's model is looked for there by its folder's name first. */
  modelsRoot?: string;
}

/** Opens models as jobs name them (kept open for the next job) and measures configurations. */
export class Evaluator {
  private readonly models = new Map<string, Promise<FamilyModel>>();
  // Answers are kept only until they are read back: the submitter's store is the one that lasts.
  private readonly db = ExperimentStore.open(':memory:');

  constructor(private readonly o: EvaluatorOptions) {}

  async evaluate(job: EvaluationJob): Promise<QualityRow> {
    const model = await this.open(job);
    const plan = model.checkPlan(job.plan);
    const hash = model.configHash(plan);
    if (hash !== job.configHash)
      throw new UserError(
        `configuration ${job.configHash}: this worker hashes its plan as ${hash}; submitter and worker differ in version`,
      );
    const a = await model.quality(plan, job.where);
    const row = this.db.getQuality({ model: job.checksum, task: model.info.task!, split: a.split, configHash: hash, metric: a.metric });
    if (!row) throw new Error(`quality of ${hash} was measured but not stored`);
    return row;
  }

  private open(job: EvaluationJob): Promise<FamilyModel> {
    const dir = this.resolve(job.model);
    const key = job.data === undefined ? dir : `${dir}\u0000${job.data}`;
    let m = this.models.get(key);
    if (!m) {
      m = getFamily(job.family).open(dir, { db: this.db, threads: this.o.threads, ...(job.data !== undefined && { data: job.data }) });
      this.models.set(key, m);
      m.catch(() => this.models.delete(key));
    }
    return m.then((model) => {
      if (model.info.checksum !== job.checksum)
        throw new UserError(
          `model ${dir} has checksum ${model.info.checksum}, the sweep's has ${job.checksum}: give this worker the submitter's model files`,
        );
      if (!model.info.task) throw new UserError(`model ${dir} is a shape-only model; it has no quality to measure`);
      if (model.info.task !== job.task)
        throw new UserError(`${job.data ?? dir}: measures ${model.info.task} here, the sweep's is ${job.task}: was the data file changed?`);
      return model;
    });
  }

  /** The model's folder on this machine: under the models root by its name, else the submitter's path. */
  private resolve(model: string): string {
    const mine = this.o.modelsRoot && join(this.o.modelsRoot, basename(model));
    if (mine && existsSync(mine)) return mine;
    if (existsSync(model)) return model;
    throw new UserError(
      `model ${model} is not on this machine${this.o.modelsRoot ? ` (nor ${mine})` : ''}: copy it there or start the worker with --models DIR`,
    );
  }

  async close(): Promise<void> {
    for (const m of this.models.values()) await (await m.catch(() => undefined))?.release();
    this.models.clear();
    this.db.close();
  }
}
