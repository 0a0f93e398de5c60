/**
 * The RWKV engine against rwkv.cpp's tiny test models (shared/reference/rwkv-vectors/README.md): feed
 * 34, 105, 110 from the initial state and compare the 256 logits with rwkv.cpp's.
 */
import assert from 'node:assert/strict';
import { copyFileSync, openSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { UserError } from '../engine/core/errors.js';
import { loadBinFile } from '../engine/families/rwkv/bin-file.js';
import { compareLogits } from '../engine/families/rwkv/compare.js';
import { RwkvRunner } from '../engine/families/rwkv/runner.js';
import type { WeightsAs } from '../engine/families/rwkv/step-graph.js';
import type { RwkvWeights } from '../engine/families/rwkv/weights.js';
import { tempDir } from './helpers.js';
import { expectedLogits, modelFile, PROMPT, vector, VERSIONS } from './rwkv-helpers.js';

async function logitsOf(w: RwkvWeights, tokens = PROMPT, weightsAs?: WeightsAs): Promise<Float32Array> {
  const r = await RwkvRunner.open(w, { weightsAs });
  try {
    return await r.logitsAfter(tokens);
  } finally {
    await r.release();
  }
}

/** A one-line UserError matching `pattern`. */
function assertUserError(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof UserError, `not a UserError: ${e}`);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('rwkv.cpp test vectors', () => {
  for (const v of VERSIONS)
    for (const precision of ['FP32', 'FP16'] as const)
      test(`${v.name} ${precision}`, async (t) => {
        const file = vector(t, modelFile(v.name, precision));
        if (!file) return;
        const w = loadBinFile(file);
        assert.equal(w.version, v.version);
        const d = compareLogits(await logitsOf(w), expectedLogits(v.name));
        assert.ok(d.maxAbsDiff <= (precision === 'FP32' ? 1e-5 : 2e-2), `max |diff| ${d.maxAbsDiff}`);
        assert.ok(Math.abs(d.sumDiff) <= 1.05 * v.ref[precision], `signed sum ${d.sumDiff}`);
        assert.ok(d.argmaxMatch, `argmax ${d.argmax}, expected ${d.expectedArgmax}`);
      });
});

describe('v5 GroupNorm eps', () => {
  test('the .bin loader uses 1e-5, and 64e-5 visibly breaks 5v2 (the check bites)', async (t) => {
    const file = vector(t, modelFile('5v2-730K', 'FP32'));
    if (!file) return;
    const w = loadBinFile(file);
    assert.equal(w.groupNormEps, 1e-5);
    const wrong = compareLogits(await logitsOf({ ...w, groupNormEps: 64e-5 }), expectedLogits('5v2-730K'));
    assert.ok(wrong.maxAbsDiff > 0.1, `with eps 64e-5 max |diff| is only ${wrong.maxAbsDiff}`);
  });
});

describe('the runner', () => {
  test('weights as inputs give the same logits as weights as initializers', async (t) => {
    const file = vector(t, modelFile('5v2-730K', 'FP32'));
    if (!file) return;
    const w = loadBinFile(file);
    const d = compareLogits(await logitsOf(w, PROMPT, 'inputs'), await logitsOf(w, PROMPT, 'initializers'));
    // Not bit-identical: onnxruntime prepacks constant matrices and sums in another order (measured 5e-6).
    assert.ok(d.maxAbsDiff <= 1e-5, `max |diff| ${d.maxAbsDiff}`);
  });

  test('a state snapshot restores the sequence exactly; reset starts over; steps do not overlap', async (t) => {
    const file = vector(t, modelFile('4v0-660K', 'FP32'));
    if (!file) return;
    const r = await RwkvRunner.open(loadBinFile(file));
    await r.step(34);
    const snap = r.stateSnapshot();
    await r.step(105);
    const a = await r.step(110);
    r.restore(snap);
    await r.step(105);
    const b = await r.step(110);
    r.reset();
    const c = await r.logitsAfter(PROMPT);
    assert.deepEqual(b, a);
    assert.deepEqual(c, a);
    const first = r.step(34);
    await assert.rejects(r.step(105), /while a step is running/);
    await first;
    await r.release();
    assert.ok(compareLogits(a, expectedLogits('4v0-660K')).maxAbsDiff <= 1e-5);
  });
});

describe('bad .bin files are refused with one line', () => {
  const copy = (t: import('node:test').TestContext) => {
    const file = vector(t, modelFile('5v2-730K', 'FP16'));
    if (!file) return undefined;
    const out = join(tempDir(), 'model.bin');
    copyFileSync(file, out);
    return out;
  };
  const writeInt = (file: string, offset: number, value: number) => {
    const fd = openSync(file, 'r+');
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    writeSync(fd, b, 0, 4, offset);
    closeSync(fd);
  };

  test('a quantized file (header data type Q5_0)', (t) => {
    const file = copy(t);
    if (!file) return;
    writeInt(file, 20, 7);
    assertUserError(() => loadBinFile(file), /the file is Q5_0, a quantized rwkv\.cpp format .*convert the model to FP16 or FP32/);
  });

  test('a quantized tensor record (Q5_1) in an FP16 file', (t) => {
    const file = copy(t);
    if (!file) return;
    writeInt(file, 24 + 8, 8); // the first record's dtype
    assertUserError(() => loadBinFile(file), /tensor ".*" is Q5_1, a quantized rwkv\.cpp format .*FP16 or FP32/);
  });

  test('a truncated file', (t) => {
    const file = copy(t);
    if (!file) return;
    truncateSync(file, Math.floor(statSync(file).size / 2));
    assertUserError(() => loadBinFile(file), /truncated/);
    truncateSync(file, 10);
    assertUserError(() => loadBinFile(file), /truncated: 10 bytes/);
  });

  test('garbled: no magic, a bad file version, a corrupt record', (t) => {
    const file = copy(t);
    if (!file) return;
    const good = readFileSync(file);
    writeInt(file, 0, 0x12345678);
    assertUserError(() => loadBinFile(file), /not an rwkv\.cpp model file/);
    writeFileSync(file, good);
    writeInt(file, 4, 99);
    assertUserError(() => loadBinFile(file), /file version 99/);
    writeFileSync(file, good);
    writeInt(file, 24, 77); // the first record's n_dims
    assertUserError(() => loadBinFile(file), /corrupt tensor record at byte 24/);
  });

  test('random bit flips in the header and record headers: loaded or refused with one line, never a crash', (t) => {
    const file = vector(t, modelFile('4v0-660K', 'FP16'));
    if (!file) return;
    const good = readFileSync(file);
    const out = join(tempDir(), 'flipped.bin');
    // Byte offsets of the header and of every record's header (not the data), where a flip changes the structure.
    const structural: number[] = [...Array(24).keys()];
    for (let p = 24; p < good.length;) {
      const [dims, keyLen, dtype] = [good.readInt32LE(p), good.readInt32LE(p + 4), good.readInt32LE(p + 8)];
      const head = 12 + 4 * dims + keyLen;
      for (let k = 0; k < head; k++) structural.push(p + k);
      let count = 1;
      for (let d = 0; d < dims; d++) count *= good.readInt32LE(p + 12 + 4 * d);
      p += head + count * (dtype === 0 ? 4 : 2);
    }
    let seed = 12345;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    let refused = 0;
    for (let i = 0; i < 150; i++) {
      const bad = Buffer.from(good);
      const at = structural[next(structural.length)];
      bad[at] ^= 1 << next(8);
      writeFileSync(out, bad);
      try {
        loadBinFile(out);
      } catch (e) {
        assert.ok(e instanceof UserError, `flip at byte ${at}: ${(e as Error).stack}`);
        assert.doesNotMatch(e.message, /\n/);
        refused++;
      }
    }
    assert.ok(refused > 30, `only ${refused} of 150 flips refused`);
  });
});
