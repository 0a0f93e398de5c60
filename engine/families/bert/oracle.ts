/**
 * Accuracy of a BERT configuration on a task split, evaluated for real from the shard store through the
 * generic quality oracle (cached in the experiment store under the metric "accuracy").
 */
import { wilson95, type Interval } from '../../eval/interval.js';
import { QualityOracle, type QualityAnswer } from '../../eval/oracle.js';
import { sampleKey, stratifiedSample } from '../../eval/sample.js';
import type { ExperimentStore } from '../../store/db.js';
import { evaluate } from './accuracy.js';
import { configurationHash, type Configuration } from './configuration.js';
import type { Example, Split } from './datasets.js';
import { splitCount, splitExamples, taskKey, type TaskSource } from './data-file.js';
import type { BertModel } from './model.js';
import type { ShardStore } from './shard-store.js';

export interface OracleAnswer {
  accuracy: number;
  examples: number;
  correct: number;
  /** The 95 % interval of the accuracy from its example count (eval/interval.ts). */
  interval: Interval;
  configHash: string;
  /** True when the answer came from the experiment store rather than a fresh evaluation. */
  cached: boolean;
  /** Time to answer, in milliseconds. */
  ms: number;
}

/** The split key answers are stored under: the split, or a stratified sample of K of its examples (eval/sample.ts). */
export function splitKey(split: Split, examples: number, all: number): string {
  return sampleKey(split, examples, all);
}

export class AccuracyOracle {
  /** The task answers are stored under: a bundled task's name, or `data:<hash>` for a data file. */
  readonly task: string;
  readonly splitKey: string;
  /** How many examples the whole split has. */
  readonly splitSize: number;
  /** How many examples answers are measured on. */
  readonly count: number;
  private readonly oracle: QualityOracle<Configuration>;
  private sample?: Example[];

  constructor(
    /** The model, or how to get it when a configuration is first measured (cached answers need none). */
    private readonly model: BertModel | (() => Promise<BertModel>),
    readonly store: ShardStore,
    db: ExperimentStore,
    private readonly source: TaskSource,
    readonly split: Split = 'dev',
    limit?: number,
  ) {
    this.task = taskKey(source);
    // The examples themselves are read when first measured: a cached answer needs only their count.
    this.splitSize = splitCount(source, split);
    this.count = limit ? Math.min(limit, this.splitSize) : this.splitSize;
    this.splitKey = splitKey(split, this.count, this.splitSize);
    this.oracle = new QualityOracle(
      db,
      { model: store.checksum, task: this.task, split: this.splitKey, metric: 'accuracy' },
      {
        hash: configurationHash,
        measure: async (c, onProgress) => {
          const r = await evaluate(await this.runtime(), this.examples, {
            layers: c.layers,
            slices: c.slices,
            weights: this.store.configurationWeights(c),
            onProgress,
          });
          return { value: r.accuracy, count: r.examples };
        },
      },
    );
  }

  /** The examples answers are measured on: the split, or its fixed stratified sample of `limit`. */
  get examples(): Example[] {
    if (!this.sample) {
      const all = splitExamples(this.source, this.split);
      this.sample = this.count < all.length ? stratifiedSample(all, this.count) : all;
    }
    return this.sample;
  }

  /** The model's runtime sessions (started now if the oracle was given a way to start them). */
  runtime(): Promise<BertModel> {
    return typeof this.model === 'function' ? this.model() : Promise.resolve(this.model);
  }

  /** The stored answer for a configuration, without evaluating, as the generic oracle gives it. */
  cachedQuality(c: Configuration): QualityAnswer | undefined {
    return this.oracle.cached(c);
  }

  /** A configuration's accuracy as the generic oracle gives it (metric, value, count). */
  quality(c: Configuration, onProgress?: (done: number, total: number) => void): Promise<QualityAnswer> {
    return this.oracle.quality(c, onProgress);
  }

  async accuracy(c: Configuration, onProgress?: (done: number, total: number) => void): Promise<OracleAnswer> {
    return answer(await this.oracle.quality(c, onProgress));
  }
}

function answer(a: QualityAnswer): OracleAnswer {
  return {
    accuracy: a.value,
    examples: a.count,
    correct: Math.round(a.value * a.count),
    interval: wilson95(a.value, a.count),
    configHash: a.configHash,
    cached: a.cached,
    ms: a.ms,
  };
}
