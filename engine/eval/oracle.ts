/**
 * The quality oracle: a configuration's quality by a family's metric (accuracy, perplexity, …), measured
 * for real by the family and cached in the experiment store by (model checksum, task, split,
 * configuration hash, metric) together with the count it was measured on.
 */
import { performance } from 'node:perf_hooks';
import type { ExperimentStore } from '../store/db.js';

export interface Measurement {
  value: number;
  /** Examples (accuracy) or tokens (perplexity) the value was measured on. */
  count: number;
}

export interface QualityAnswer extends Measurement {
  metric: string;
  configHash: string;
  /** True when the answer came from the experiment store rather than a fresh evaluation. */
  cached: boolean;
  /** Time to answer, in milliseconds. */
  ms: number;
}

/** What every answer of one oracle shares. */
export interface QualityScope {
  /** The model's checksum. */
  model: string;
  task: string;
  /** The split as stored, e.g. dev, or dev~strat64 for a stratified sample of 64 of its examples (eval/sample.ts). */
  split: string;
  metric: string;
}

export interface QualityMeasure<C> {
  /** A stable id of a configuration, for caching. */
  hash(c: C): string;
  /** Measures a configuration for real. */
  measure(c: C, onProgress?: (done: number, total: number) => void): Promise<Measurement>;
}

export class QualityOracle<C> {
  constructor(
    private readonly db: ExperimentStore,
    readonly scope: QualityScope,
    private readonly m: QualityMeasure<C>,
  ) {}

  /** The stored answer for a configuration, without measuring. */
  cached(c: C): QualityAnswer | undefined {
    const start = performance.now();
    const configHash = this.m.hash(c);
    const hit = this.db.getQuality({ ...this.scope, configHash });
    return hit && { metric: hit.metric, value: hit.value, count: hit.count, configHash, cached: true, ms: performance.now() - start };
  }

  async quality(c: C, onProgress?: (done: number, total: number) => void): Promise<QualityAnswer> {
    const hit = this.cached(c);
    if (hit) return hit;
    const start = performance.now();
    const configHash = this.m.hash(c);
    const r = await this.m.measure(c, onProgress);
    const seconds = (performance.now() - start) / 1000;
    this.db.putQuality({ ...this.scope, configHash, config: JSON.stringify(c), value: r.value, count: r.count, seconds });
    return { metric: this.scope.metric, value: r.value, count: r.count, configHash, cached: false, ms: performance.now() - start };
  }
}
