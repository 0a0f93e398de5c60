/**
 * An RWKV model directory opened for language modelling: its weights on the step-graph runner, its
 * tokenizer, and the checksum its quality answers are cached under.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { modelChecksum } from '../../core/checksum.js';
import { UserError } from '../../core/errors.js';
import { loadModelDir } from './model-dir.js';
import { loadClusterHead, type ClusterHeadSetting } from './cluster-head.js';
import { RwkvRunner } from './runner.js';
import { loadMlpPredictors, type SparseFfn } from './sparse-ffn.js';
import { RwkvTokenizer } from './tokenizer.js';
import type { RwkvWeights } from './weights.js';

/** The files that define an RWKV model directory's results. */
const RWKV_DEFINING_FILES = ['config.json', 'model.safetensors', 'vocab.json'];

/** RWKV-edge's techniques a model runs with (more arrive with the rest of the compression suite). */
export interface Techniques {
  sparseFfn?: SparseFfn;
  clusterHead?: ClusterHeadSetting;
}

export interface RwkvLm {
  dir: string;
  techniques: Techniques;
  checksum: string;
  weights: Omit<RwkvWeights, 'tensors'>;
  tokenizer: RwkvTokenizer;
  runner: RwkvRunner;
  release(): Promise<void>;
}

export async function openRwkvDir(dir: string, opts: { threads?: number; techniques?: Techniques } = {}): Promise<RwkvLm> {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UserError(
      `${dir}: not an RWKV model directory; lm-eval and generate need one (config.json, model.safetensors, vocab.json), not an rwkv.cpp file`,
    );
  const vocabFile = join(dir, 'vocab.json');
  if (!existsSync(vocabFile)) throw new UserError(`${vocabFile}: missing; an RWKV model directory needs its tokenizer's vocab.json`);
  const weights = loadModelDir(dir);
  const tokenizer = RwkvTokenizer.fromFile(vocabFile);
  if (tokenizer.vocabSize !== weights.vocab)
    throw new UserError(`${vocabFile}: ${tokenizer.vocabSize} tokens, but the model's vocabulary is ${weights.vocab}; they must match`);
  const techniques = opts.techniques ?? {};
  const predictors = techniques.sparseFfn?.mlp ? loadMlpPredictors(dir, weights.layers, weights.embd, weights.ffn) : undefined;
  const ch = techniques.clusterHead;
  const clusterHead = ch && { head: loadClusterHead(dir, ch, weights.vocab, weights.embd), mass: ch.mass };
  const runner = await RwkvRunner.open(weights, { threads: opts.threads, sparseFfn: techniques.sparseFfn, predictors, clusterHead });
  return {
    dir,
    techniques,
    checksum: modelChecksum(dir, RWKV_DEFINING_FILES),
    weights: runner.model,
    tokenizer,
    runner,
    release: () => runner.release(),
  };
}
