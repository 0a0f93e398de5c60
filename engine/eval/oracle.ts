import { performance } from 'node:perf_hooks';
import type { BertModel } from '../families/bert/model.js';
import { loadTask, type Example, type Split, type TaskName } from '../families/bert/datasets.js';
import { configurationHash, type Configuration } from '../families/bert/configuration.js';
import type { ShardStore } from '../families/bert/shard-store.js';
import type { ExperimentStore } from '../store/db.js';
import { evaluate } from '../families/bert/accuracy.js';

export interface OracleAnswer {
  accuracy: number;
  examples: number;
  correct: number;
  configHash: string;
  /** True when the answer came from the experiment store rather than a fresh evaluation. */
  cached: boolean;
  /** Time to answer, in milliseconds. */
  ms: number;
}

/**
 * Accuracy of a configuration on a task split, evaluated for real from the shard store and cached in
 * the experiment store by (model checksum, task, split, configuration hash).
 */
export class AccuracyOracle {
  private readonly examples: Example[];
  readonly splitKey: string;

  constructor(
    private readonly model: BertModel,
    private readonly store: ShardStore,
    private readonly db: ExperimentStore,
    readonly task: TaskName,
    split: Split = 'dev',
    limit?: number,
  ) {
    const all = loadTask(task, split).examples;
    this.examples = limit ? all.slice(0, limit) : all;
    this.splitKey = this.examples.length < all.length ? `${split}[:${this.examples.length}]` : split;
  }

  async accuracy(c: Configuration, onProgress?: (done: number, total: number) => void): Promise<OracleAnswer> {
    const start = performance.now();
    const key = { model: this.store.checksum, task: this.task, split: this.splitKey, configHash: configurationHash(c) };
    const hit = this.db.getAccuracy(key);
    if (hit)
      return {
        accuracy: hit.accuracy,
        examples: hit.examples,
        correct: hit.correct,
        configHash: key.configHash,
        cached: true,
        ms: performance.now() - start,
      };
    const r = await evaluate(this.model, this.examples, {
      layers: c.layers,
      slices: c.slices,
      weights: this.store.configurationWeights(c),
      onProgress,
    });
    const seconds = (performance.now() - start) / 1000;
    this.db.putAccuracy({ ...key, config: JSON.stringify(c), examples: r.examples, correct: r.correct, accuracy: r.accuracy, seconds });
    return {
      accuracy: r.accuracy,
      examples: r.examples,
      correct: r.correct,
      configHash: key.configHash,
      cached: false,
      ms: performance.now() - start,
    };
  }
}
