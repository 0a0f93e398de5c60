/** The step graph against a plain float64 forward pass, on shapes with heads ≠ head size. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadBinFile } from '../engine/families/rwkv/bin-file.js';
import { decodeLinearInt8, encodeLinearInt8 } from '../engine/families/rwkv/compress/int8.js';
import { lowRankModel } from '../engine/families/rwkv/compress/lowrank-model.js';
import { compareLogits } from '../engine/families/rwkv/compare.js';
import { randomWeights } from '../engine/families/rwkv/random-model.js';
import { RwkvRunner } from '../engine/families/rwkv/runner.js';
import { ReferenceRwkv } from './rwkv-reference.js';
import { expectedLogits, modelFile, PROMPT, vector } from './rwkv-helpers.js';

const TOKENS = [5, 17, 0, 299, 42, 42, 8];

test('the float64 reference itself reproduces rwkv.cpp (5v2 FP32)', (t) => {
  const file = vector(t, modelFile('5v2-730K', 'FP32'));
  if (!file) return;
  const ref = new ReferenceRwkv(loadBinFile(file));
  let logits: ArrayLike<number> = [];
  for (const tok of PROMPT) logits = ref.step(tok);
  assert.ok(compareLogits(logits, expectedLogits('5v2-730K')).maxAbsDiff <= 1e-5);
});

/** Steps the runner and the reference through TOKENS; logits within 1e-4 of the largest, same argmax. */
async function agree(runner: RwkvRunner, ref: ReferenceRwkv, each?: () => void): Promise<void> {
  for (const tok of TOKENS) {
    const expected = ref.step(tok);
    const got = await runner.step(tok);
    const scale = Math.max(1, ...expected.map(Math.abs));
    const d = compareLogits(got, expected);
    assert.ok(d.maxAbsDiff <= 1e-4 * scale, `token ${tok}: max |diff| ${d.maxAbsDiff} (logits up to ${scale})`);
    assert.ok(d.argmaxMatch);
    each?.();
  }
  await runner.release();
}

describe('step graph = float64 reference on random weights (4 heads × 16)', () => {
  for (const version of ['4', '5.1', '5.2'] as const)
    test(`RWKV ${version}`, async () => {
      const w = randomWeights({ version, layers: 3, embd: 64, headSize: 16, ffn: 224, vocab: 300, groupNormEps: 64e-5 }, 11);
      await agree(await RwkvRunner.open(w), new ReferenceRwkv(w));
    });
});

const SHAPE = { version: '5.2' as const, layers: 3, embd: 64, headSize: 16, ffn: 224, vocab: 300, groupNormEps: 64e-5 };

describe("RWKV-edge's techniques in the step graph = the float64 reference", () => {
  for (const kind of ['linear', 'relu2'] as const)
    test(`low-rank ${kind} (f = 4): both factors, the squared ReLU and the diagonal skip`, async () => {
      const w = lowRankModel(randomWeights(SHAPE, 5), { factor: 4, kind }).weights;
      await agree(await RwkvRunner.open(w), new ReferenceRwkv(w));
    });

  test('INT8: the graph computes with exactly the matrices the encoding decodes to', async () => {
    const w = randomWeights(SHAPE, 6);
    const decoded = new Map(w.tensors);
    for (const [name, t] of w.tensors)
      if (t.shape.length === 2 && name.endsWith('.weight') && name !== 'emb.weight')
        decoded.set(name, { shape: t.shape, data: decodeLinearInt8(encodeLinearInt8(t.data, t.shape[0]!, t.shape[1]!)) });
    await agree(await RwkvRunner.open(w, { int8: true }), new ReferenceRwkv({ ...w, tensors: decoded }));
  });

  test("the key-copy predictor's counts (true active, predicted, both) are the reference's on its real activations", async () => {
    const w = randomWeights(SHAPE, 7);
    const quant = { bits: 2 as const, quantile: [0.9, 0.75, 0.5] };
    const runner = await RwkvRunner.open(w, { sparseFfn: { quant } });
    const ref = new ReferenceRwkv(w, quant);
    let recalls = 0;
    await agree(runner, ref, () => {
      const got = runner.lastFfnStats!;
      ref.lastFfnCounts.forEach(([active, predicted, both], l) => {
        assert.deepEqual([got[3 * l], got[3 * l + 1], got[3 * l + 2]], [active, predicted, both], `layer ${l}`);
        if (both < active) recalls++;
      });
    });
    assert.ok(recalls > 0, 'some active neurons were missed, so recall was really measured');
  });
});
