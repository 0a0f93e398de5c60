import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scoreLm } from '../engine/families/rwkv/lm-eval.js';
import { randomWeights } from '../engine/families/rwkv/random-model.js';
import { RwkvRunner } from '../engine/families/rwkv/runner.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSafetensors, type Tensor } from '../engine/core/safetensors.js';
import { keptNeurons, loadMlpPredictors, parsePredictor, quantizeCopy, type SparseFfn } from '../engine/families/rwkv/sparse-ffn.js';
import { tempDir } from './helpers.js';

const SHAPE = { version: '5.2' as const, layers: 2, embd: 32, headSize: 8, ffn: 64, vocab: 300, groupNormEps: 64e-5 };
const items = Array.from({ length: 5 }, (_, k) => ({
  id: `p${k}`,
  source: 'ham' as const,
  ids: Array.from({ length: 6 + k }, (_, i) => (k * 13 + i * 29) % 300),
}));

test('a b-bit copy takes at most 2^b values, spanning the matrix from its minimum to its maximum', () => {
  const w = Float32Array.from({ length: 500 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 7)));
  for (const bits of [1, 2, 4]) {
    const q = quantizeCopy(w, bits);
    assert.ok(new Set(q).size <= 2 ** bits);
    assert.equal(Math.min(...q), Math.min(...w));
    assert.ok(Math.abs(Math.max(...q) - Math.max(...w)) < 1e-5);
  }
});

test('a predictor that keeps every neuron changes nothing; one that keeps few counts what it keeps', async () => {
  const w = randomWeights(SHAPE, 11);
  const dense = await RwkvRunner.open(w);
  const all = await RwkvRunner.open(w, { sparseFfn: { quant: { bits: 1, quantile: [0] } } });
  const few = await RwkvRunner.open(w, { sparseFfn: { quant: { bits: 2, quantile: [0.9, 0.75] } } });
  try {
    const d = await scoreLm(dense, items, 0);
    const a = await scoreLm(all, items, 0);
    assert.equal(a.perplexity, d.perplexity);
    assert.equal(d.ffn, undefined);
    assert.deepEqual(
      a.ffn!.map((l) => [l.predictedSparsity, l.recall]),
      [
        [0, 1],
        [0, 1],
      ],
    );
    const f = await scoreLm(few, items, 0);
    assert.notEqual(f.perplexity, d.perplexity);
    // Kept per token: round((1 − q)·F) in each layer, whatever the token.
    assert.ok(Math.abs(f.ffn![0]!.predictedSparsity - (1 - keptNeurons(64, 0.9) / 64)) < 1e-9);
    assert.ok(Math.abs(f.ffn![1]!.predictedSparsity - (1 - keptNeurons(64, 0.75) / 64)) < 1e-9);
    for (const l of f.ffn!) assert.ok(l.recall > 0 && l.recall < 1);
    // Layer 0's inputs do not depend on any mask (later layers' do), so neither does its true sparsity.
    assert.ok(Math.abs(f.ffn![0]!.trueSparsity - a.ffn![0]!.trueSparsity) < 1e-9);
  } finally {
    await Promise.all([dense.release(), all.release(), few.release()]);
  }
});

test('the MLP predictor: all kept above its output, none below, and OR with the key copy', async () => {
  // fc2 = 0 makes every output sigmoid(0) = 0.5: θ 0.4 keeps every neuron, θ 0.6 none.
  const dir = tempDir();
  const tensors: Record<string, Tensor> = {};
  for (let l = 0; l < SHAPE.layers; l++) {
    tensors[`blocks.${l}.ffn.predictor.fc1.weight`] = {
      shape: [64, 32],
      data: Float32Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i)),
    };
    tensors[`blocks.${l}.ffn.predictor.fc2.weight`] = { shape: [64, 64], data: new Float32Array(64 * 64) };
  }
  writeFileSync(join(dir, 'predictors.safetensors'), encodeSafetensors(tensors));
  const predictors = loadMlpPredictors(dir, SHAPE.layers, SHAPE.embd, SHAPE.ffn);
  const w = randomWeights(SHAPE, 11);
  const quant = { bits: 1 as const, quantile: [0.8] };
  const open = (sparseFfn: SparseFfn) => RwkvRunner.open(w, { sparseFfn, predictors });
  const runners = await Promise.all([
    RwkvRunner.open(w),
    open({ mlp: { threshold: 0.4 } }),
    open({ mlp: { threshold: 0.6 } }),
    open({ quant }),
    open({ mlp: { threshold: 0.6 }, quant }),
  ]);
  try {
    const [dense, all, none, q, both] = await Promise.all(runners.map((r) => scoreLm(r, items, 0)));
    assert.equal(all!.perplexity, dense!.perplexity);
    assert.ok(none!.ffn!.every((l) => l.predictedSparsity === 1 && l.recall === 0));
    assert.equal(both!.perplexity, q!.perplexity);
    assert.deepEqual(both!.ffn, q!.ffn);
  } finally {
    await Promise.all(runners.map((r) => r.release()));
  }
  assert.throws(() => loadMlpPredictors(tempDir(), 2, 32, 64), /predictors\.safetensors: missing/);
});

test('--predictor accepts quant:B:Q and per-layer quantiles, and refuses the rest in one line', () => {
  assert.deepEqual(parsePredictor('quant:1:0.95'), { quant: { bits: 1, quantile: [0.95] } });
  assert.deepEqual(parsePredictor('quant:4:0.9/0.8'), { quant: { bits: 4, quantile: [0.9, 0.8] } });
  assert.throws(() => parsePredictor('quant:3:0.9'), /1, 2 or 4 bits/);
  assert.throws(() => parsePredictor('quant:1:1.5'), /quantiles/);
  assert.deepEqual(parsePredictor('mlp:0.7,quant:1:0.95'), { mlp: { threshold: 0.7 }, quant: { bits: 1, quantile: [0.95] } });
  assert.throws(() => parsePredictor('mlp:1.5'), /mlp:θ with θ between 0 and 1/);
  assert.throws(() => parsePredictor('dense'), /use mlp:θ or quant:B:Q/);
});
