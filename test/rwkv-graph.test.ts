/** The step graph against a plain float64 forward pass, on shapes with heads ≠ head size. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadBinFile } from '../engine/families/rwkv/bin-file.js';
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

describe('step graph = float64 reference on random weights (4 heads × 16)', () => {
  for (const version of ['4', '5.1', '5.2'] as const)
    test(`RWKV ${version}`, async () => {
      const w = randomWeights({ version, layers: 3, embd: 64, headSize: 16, ffn: 224, vocab: 300, groupNormEps: 64e-5 }, 11);
      const ref = new ReferenceRwkv(w);
      const runner = await RwkvRunner.open(w);
      for (const tok of TOKENS) {
        const expected = ref.step(tok);
        const got = await runner.step(tok);
        const scale = Math.max(1, ...expected.map(Math.abs));
        const d = compareLogits(got, expected);
        assert.ok(d.maxAbsDiff <= 1e-4 * scale, `token ${tok}: max |diff| ${d.maxAbsDiff} (logits up to ${scale})`);
        assert.ok(d.argmaxMatch);
      }
      await runner.release();
    });
});
