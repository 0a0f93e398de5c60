/**
 * An RWKV model's language-model quality through the generic quality oracle: one scoring pass measures
 * perplexity, next-token accuracy and last-word accuracy together, and each is cached in the experiment
 * store under its own metric, keyed by the model's checksum, the corpus, the split (or its sample) and
 * the configuration.
 */
import { QualityOracle } from '../../eval/oracle.js';
import { sampleKey } from '../../eval/sample.js';
import type { Split } from '../../eval/splits.js';
import type { ExperimentStore } from '../../store/db.js';
import { evaluationItems, scoreLm, type LaneStepper, type LmScores } from './lm-eval.js';
import type { RwkvTokenizer } from './tokenizer.js';

/** The corpus quality is measured on, as stored with every answer (corpus.ts). */
export const LM_TASK = 'english-lm';

/** What lm-quality needs of an opened model. */
export interface LmModel {
  checksum: string;
  tokenizer: RwkvTokenizer;
  runner: LaneStepper;
}

/** The dense model as stored (compression settings arrive with RWKV-edge's techniques). */
const DENSE = { compression: 'none' };

export interface LmAnswer extends LmScores {
  split: string;
  cached: boolean;
  tokensPerSecond: number;
}

export async function lmQuality(
  model: LmModel,
  db: ExperimentStore,
  split: Split,
  limit?: number,
  onProgress?: (done: number, total: number) => void,
): Promise<LmAnswer> {
  const { items, all } = evaluationItems(split, model.tokenizer, limit);
  const key = sampleKey(split, items.length, all);
  let measured: Promise<{ scores: LmScores; ms: number }> | undefined;
  const measure = () =>
    (measured ??= (async () => {
      const start = performance.now();
      const scores = await scoreLm(model.runner, items, model.tokenizer.eot, onProgress);
      return { scores, ms: performance.now() - start };
    })());
  const oracle = (metric: keyof LmScores, count: keyof LmScores) =>
    new QualityOracle(
      db,
      { model: model.checksum, task: LM_TASK, split: key, metric },
      {
        hash: () => 'dense',
        measure: async () => {
          const { scores } = await measure();
          return { value: scores[metric], count: scores[count] };
        },
      },
    );
  const ppl = await oracle('perplexity', 'tokens').quality(DENSE);
  const next = await oracle('nextTokenAccuracy', 'tokens').quality(DENSE);
  const word = await oracle('lastWordAccuracy', 'lastWordItems').quality(DENSE);
  const fresh = measured ? await measured : undefined;
  return {
    split: key,
    perplexity: ppl.value,
    nextTokenAccuracy: next.value,
    lastWordAccuracy: word.value,
    tokens: ppl.count,
    passages: items.length,
    lastWordItems: word.count,
    cached: !fresh,
    tokensPerSecond: fresh ? (1000 * fresh.scores.tokens) / fresh.ms : 0,
  };
}
