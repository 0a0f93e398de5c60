/** The RWKV model directory: written from .bin weights or random ones, read back, checked on bad input. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { UserError } from '../engine/core/errors.js';
import { floatToHalf, halfToFloat, readSafetensorsHeader } from '../engine/core/safetensors.js';
import { loadBinFile } from '../engine/families/rwkv/bin-file.js';
import { loadModelDir, readReferenceLogits, writeModelDir, writeReferenceLogits } from '../engine/families/rwkv/model-dir.js';
import { randomWeights, type RwkvShape } from '../engine/families/rwkv/random-model.js';
import { RwkvRunner } from '../engine/families/rwkv/runner.js';
import type { RwkvWeights } from '../engine/families/rwkv/weights.js';
import { tempDir } from './helpers.js';
import { modelFile, PROMPT, vector, VERSIONS } from './rwkv-helpers.js';

async function logitsOf(w: RwkvWeights, tokens = PROMPT): Promise<Float32Array> {
  const r = await RwkvRunner.open(w);
  try {
    return await r.logitsAfter(tokens);
  } finally {
    await r.release();
  }
}

function assertUserError(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof UserError && !e.message.includes('\n') && pattern.test(e.message));
}

const SMALL: RwkvShape = { version: '5.2', layers: 2, embd: 64, headSize: 16, ffn: 224, vocab: 300, groupNormEps: 64e-5 };

test('fp16 encoding rounds every half exactly back and rounds to nearest even', () => {
  for (let h = 0; h < 65536; h++) {
    const f = halfToFloat(h);
    if (!Number.isNaN(f)) assert.equal(floatToHalf(f), h, `half ${h.toString(16)}`);
  }
  assert.equal(floatToHalf(1 + 2 ** -11), floatToHalf(1)); // a tie rounds to even
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), floatToHalf(1 + 2 ** -9));
  assert.equal(floatToHalf(1e6), 0x7c00);
});

describe('a .bin model written as a model directory reads back identical', () => {
  for (const v of VERSIONS)
    for (const precision of ['FP32', 'FP16'] as const)
      test(`${v.name} ${precision}`, async (t) => {
        const file = vector(t, modelFile(v.name, precision));
        if (!file) return;
        const bin = loadBinFile(file);
        const dir = join(tempDir(), 'model');
        // An FP16 file's matrices are fp16 values: F16 in the directory holds them exactly.
        writeModelDir(dir, bin, { f16: precision === 'FP16' });
        const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
        assert.equal(config.version, v.version);
        if (v.version !== '4') assert.equal(config.groupnorm_eps, 1e-5);
        const fromDir = loadModelDir(dir);
        assert.equal(fromDir.groupNormEps, bin.groupNormEps);
        for (const [name, tensor] of bin.tensors) assert.deepEqual(fromDir.tensors.get(name)!.data, tensor.data, name);
        assert.deepEqual(await logitsOf(fromDir), await logitsOf(bin));
      });
});

describe('a random-weight directory (F16 matrices)', () => {
  test('is written in the project format and reads back to the rounded weights', async () => {
    const w = randomWeights(SMALL, 7);
    const dir = join(tempDir(), 'model');
    writeModelDir(dir, w, { f16: true, tokenizer: 'gpt2-reduced' });
    const header = new Map(readSafetensorsHeader(join(dir, 'model.safetensors')).tensors.map((e) => [e.name, e]));
    assert.equal(header.get('blocks.1.att.key.weight')!.dtype, 'F16');
    assert.deepEqual(header.get('blocks.1.att.time_mix_g')!.shape, [1, 1, 64]);
    assert.deepEqual(header.get('blocks.1.att.time_faaaa')!.shape, [4, 16]);
    assert.equal(header.get('blocks.1.att.time_decay')!.dtype, 'F32');
    const back = loadModelDir(dir);
    assert.equal(back.groupNormEps, 64e-5);
    assert.equal(back.heads, 4);
    const a = w.tensors.get('blocks.0.ffn.value.weight')!.data;
    const b = back.tensors.get('blocks.0.ffn.value.weight')!.data;
    for (let i = 0; i < a.length; i += 97) assert.equal(b[i], halfToFloat(floatToHalf(a[i])));
    const logits = await logitsOf(back, [1, 2, 3]);
    assert.equal(logits.length, 300);
    assert.ok(logits.every(Number.isFinite));
  });

  test('config.json and weights that disagree are refused with one line', () => {
    const dir = join(tempDir(), 'model');
    writeModelDir(dir, randomWeights(SMALL, 3));
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const withConfig = (patch: object) => writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...patch }));
    withConfig({ version: '6' });
    assertUserError(() => loadModelDir(dir), /version is "6"; expected "4", "5\.1", "5\.2"/);
    withConfig({ n_layer: 1e9 });
    assertUserError(() => loadModelDir(dir), /n_layer is 1000000000; expected an integer from 1 to 1024/);
    withConfig({ head_size: 48 });
    assertUserError(() => loadModelDir(dir), /head_size is 48; expected a divisor of n_embd 64/);
    withConfig({ groupnorm_eps: -1 });
    assertUserError(() => loadModelDir(dir), /groupnorm_eps/);
    withConfig({ dim_ffn: 256 });
    assertUserError(() => loadModelDir(dir), /ffn\.key\.weight has shape \[224, 64\]; config\.json implies \[256, 64\]/);
    withConfig({ n_layer: 3 });
    assertUserError(() => loadModelDir(dir), /blocks\.2\.\S+ is missing/);
    withConfig({ version: '5.1' });
    assert.equal(loadModelDir(dir).version, '5.1'); // the gate is extra, ignored
  });

  test('reference-logits.json: one vector, or a list whose last element is the one', () => {
    const dir = tempDir();
    const logits = Float32Array.from({ length: 5 }, (_, i) => i / 4);
    writeReferenceLogits(dir, [{ text: 'a', tokens: [1, 2], logits }]);
    assert.deepEqual(readReferenceLogits(dir, 5)[0].logits, logits);
    const one = { prompts: [{ text: 'b', tokens: [3], logits: Array.from(logits) }] };
    writeFileSync(join(dir, 'reference-logits.json'), JSON.stringify(one));
    assert.deepEqual(readReferenceLogits(dir, 5)[0], { text: 'b', tokens: [3], logits });
    assertUserError(() => readReferenceLogits(dir, 6), /prompt 0: logits must be 6 numbers/);
    assertUserError(() => readReferenceLogits(dir, 3), /prompt 0: tokens must be .* from 0 to 2/);
  });
});
