/**
 * An RWKV model's language-model quality through the generic quality oracle: one scoring pass measures
 * perplexity, next-token accuracy and last-word accuracy (and, with an FFN predictor, its per-layer
 * sparsity and recall) together, and each is cached in the experiment store under its own metric, keyed
 * by the model's checksum, the corpus, the split (or its sample) and the technique settings.
 */
import { canonicalJson, sha256 } from '../../core/checksum.js';
import { QualityOracle, type QualityAnswer } from '../../eval/oracle.js';
import { sampleKey } from '../../eval/sample.js';
import type { Split } from '../../eval/splits.js';
import type { ExperimentStore } from '../../store/db.js';
import { evaluationItems, evaluationSize, scoreLm, type FfnLayerStats, type LaneStepper, type LmScores } from './lm-eval.js';
import { EmbeddingCache } from './compress/emb-cache.js';
import type { TechniqueSpec } from './compress/setting.js';
import type { RwkvTokenizer } from './tokenizer.js';

/** The corpus quality is measured on, as stored with every answer (corpus.ts). */
export const LM_TASK = 'english-lm';

/** What lm-quality needs of an opened model. */
export interface LmModel {
  checksum: string;
  tokenizer: RwkvTokenizer;
  runner: LaneStepper;
  /** The technique settings the model runs with ({} for the dense model). */
  techniques: TechniqueSpec;
  /** What its quality is cached under beside the checksum (open.ts); the techniques when not given. */
  qualityKey?: object;
}

/** The embedding cache's hit rate on the evaluated passages read one after another (rows FIFO or LRU). */
export interface EmbCacheStats {
  rows: number;
  policy: string;
  hitRate: number;
  lookups: number;
}

export interface LmAnswer extends LmScores {
  split: string;
  cached: boolean;
  tokensPerSecond: number;
  embCache?: EmbCacheStats;
}

/** The cache key of a technique setting: 'dense', or a hash of its canonical JSON. */
export function techniquesHash(t: object): string {
  const json = canonicalJson(t);
  return json === '{}' ? 'dense' : sha256(Buffer.from(json)).slice(0, 16);
}

const FFN_KEYS: (keyof FfnLayerStats)[] = ['trueSparsity', 'predictedSparsity', 'recall'];

export async function lmQuality(
  model: LmModel,
  db: ExperimentStore,
  split: Split,
  limit?: number,
  onProgress?: (done: number, total: number) => void,
): Promise<LmAnswer> {
  const { items, all } = evaluationItems(split, model.tokenizer, limit);
  const scope = { model: model.checksum, task: LM_TASK, split: sampleKey(split, items.length, all) };
  let measured: Promise<{ scores: LmScores; ms: number }> | undefined;
  const measure = () =>
    (measured ??= (async () => {
      const start = performance.now();
      const scores = await scoreLm(model.runner, items, model.tokenizer.eot, onProgress);
      return { scores, ms: performance.now() - start };
    })());
  const ask = (metric: string, pick: (s: LmScores) => { value: number; count: number }): Promise<QualityAnswer> =>
    new QualityOracle(db, { ...scope, metric }, { hash: techniquesHash, measure: async () => pick((await measure()).scores) }).quality(
      model.qualityKey ?? model.techniques,
    );
  const ppl = await ask('perplexity', (s) => ({ value: s.perplexity, count: s.tokens }));
  const next = await ask('nextTokenAccuracy', (s) => ({ value: s.nextTokenAccuracy, count: s.tokens }));
  const word = await ask('lastWordAccuracy', (s) => ({ value: s.lastWordAccuracy, count: s.lastWordItems }));
  const layers = 'sparseFfn' in model.techniques ? (model.runner.model?.layers ?? 0) : 0;
  const ffn: FfnLayerStats[] = [];
  for (let l = 0; l < layers; l++) {
    const stat = {} as FfnLayerStats;
    for (const k of FFN_KEYS) stat[k] = (await ask(`ffn.${k}.${l}`, (s) => ({ value: s.ffn![l]![k], count: s.tokens }))).value;
    ffn.push(stat);
  }
  const head =
    'clusterHead' in model.techniques
      ? {
          clustersPerToken: (await ask('head.clustersPerToken', (s) => ({ value: s.head!.clustersPerToken, count: s.tokens }))).value,
          rowsTouched: (await ask('head.rowsTouched', (s) => ({ value: s.head!.rowsTouched, count: s.tokens }))).value,
        }
      : undefined;
  const fresh = measured ? await measured : undefined;
  const embCache = model.techniques.embCache && embCacheStats(model.techniques.embCache, items, model.tokenizer.eot);
  return {
    split: scope.split,
    perplexity: ppl.value,
    nextTokenAccuracy: next.value,
    lastWordAccuracy: word.value,
    tokens: ppl.count,
    passages: items.length,
    lastWordItems: word.count,
    ...(ffn.length > 0 && { ffn }),
    ...(head && { head }),
    ...(embCache && { embCache }),
    cached: !fresh,
    tokensPerSecond: fresh ? (1000 * fresh.scores.tokens) / fresh.ms : 0,
  };
}

/**
 * Replays the passages' input tokens (each passage after end-of-text, in order) through a fresh cache:
 * what one device reading them one after another would hit. Counting is cheap and exact, so it is not
 * cached.
 */
function embCacheStats(
  c: NonNullable<TechniqueSpec['embCache']>,
  items: readonly { ids: readonly number[] }[],
  eot: number,
): EmbCacheStats {
  const cache = new EmbeddingCache(c.rows, c.policy);
  for (const item of items) {
    cache.lookup(eot);
    for (const t of item.ids.slice(0, -1)) cache.lookup(t);
  }
  const s = cache.stats(0);
  return { rows: c.rows, policy: c.policy, hitRate: s.hitRate, lookups: s.lookups };
}

/** The stored quality of a setting, without measuring (undefined until lmQuality has measured it). */
export function cachedLmQuality(
  model: Omit<LmModel, 'runner'>,
  db: ExperimentStore,
  split: Split,
  limit?: number,
): { perplexity: number; lastWordAccuracy: number; split: string; tokens: number } | undefined {
  const { passages, all } = evaluationSize(split, limit);
  const scope = { model: model.checksum, task: LM_TASK, split: sampleKey(split, passages, all) };
  const configHash = techniquesHash(model.qualityKey ?? model.techniques);
  const ppl = db.getQuality({ ...scope, metric: 'perplexity', configHash });
  const word = db.getQuality({ ...scope, metric: 'lastWordAccuracy', configHash });
  return ppl && word && { perplexity: ppl.value, lastWordAccuracy: word.value, split: scope.split, tokens: ppl.count };
}
