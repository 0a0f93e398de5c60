/** RWKV-edge's compression techniques: INT8 round trip, SVD factors, embedding cache, memory accounting. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Matrix, QrDecomposition } from 'ml-matrix';
import { EmbeddingCache, hitRates, testStream } from '../engine/families/rwkv/compress/emb-cache.js';
import {
  decodeInt8,
  decodeLinearInt8,
  encodeInt8,
  encodeLinearInt8,
  int8ErrorBound,
  transpose,
} from '../engine/families/rwkv/compress/int8.js';
import { lowRankModel, writeLowRankDir } from '../engine/families/rwkv/compress/lowrank-model.js';
import { approxError, factorise, reconstruct, tailNorm } from '../engine/families/rwkv/compress/lowrank.js';
import { memoryAccount, type Techniques } from '../engine/families/rwkv/compress/memory.js';
import { lmPassages } from '../engine/families/rwkv/corpus.js';
import { presetDims, RWKV_PRESETS } from '../engine/families/rwkv/presets.js';
import { randomWeights, uniform } from '../engine/families/rwkv/random-model.js';
import { Gpt2Bpe, GPT2_EOT, RwkvTokenizer } from '../engine/families/rwkv/tokenizer.js';
import { tempDir } from './helpers.js';

function randomMatrix(rows: number, cols: number, seed: number, f: (u: number, i: number, j: number) => number = (u) => 2 * u - 1) {
  const next = uniform(seed);
  return Float32Array.from({ length: rows * cols }, (_, k) => f(next(), Math.floor(k / cols), k % cols));
}

/** Checks every element against the scheme's bound; returns the largest error as a fraction of its bound. */
function checkInt8(w: Float32Array, rows: number, cols: number): number {
  const m = encodeInt8(w, rows, cols);
  const back = decodeInt8(m);
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of w) [lo, hi] = [Math.min(lo, x), Math.max(hi, x)];
  // float32 storage of offsets, scales and the result adds a few ulps of the values involved
  const slack = 1e-6 * Math.max(Math.abs(lo), Math.abs(hi), hi - lo, 1e-30);
  let worst = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const err = Math.abs(back[i * cols + j] - w[i * cols + j]);
      const bound = int8ErrorBound(m, i, j);
      assert.ok(err <= bound + slack, `(${i}, ${j}): error ${err} above rx·ry/512 = ${bound}`);
      assert.ok(err <= (hi - lo) / 512 + slack, `(${i}, ${j}): error ${err} above range/512`);
      if (bound > 0) worst = Math.max(worst, err / bound);
    }
  }
  return worst;
}

describe('INT8 (rwkv pip per-row/per-column uint8)', () => {
  test('random matrices of the fixture shapes round-trip within rx·ry/512, and the bound is nearly reached', () => {
    for (const [rows, cols] of [
      [896, 256],
      [256, 896],
      [256, 256],
    ]) {
      const a = Math.sqrt(3 / cols);
      const worst = checkInt8(
        randomMatrix(rows, cols, rows + cols, (u) => a * (2 * u - 1)),
        rows,
        cols,
      );
      assert.ok(worst > 0.9, `the bound is tight: worst error ${worst} of it`);
    }
  });

  test('structured matrices: offsets per row and column, rank one, a constant row and column, an outlier', () => {
    const cases: [string, number, number, (u: number, i: number, j: number) => number][] = [
      ['row and column offsets', 40, 24, (u, i, j) => 100 * i - 7 * j + u],
      ['rank one', 24, 40, (_u, i, j) => (i + 1) * (j - 20)],
      ['constant row and column', 30, 30, (u, i, j) => (i === 3 ? 5 : j === 7 ? -2 : u)],
      ['an outlier', 16, 16, (u, i, j) => (i === 5 && j === 9 ? 1000 : u)],
      ['all equal', 8, 12, () => 0.25],
    ];
    for (const [, rows, cols, f] of cases) checkInt8(randomMatrix(rows, cols, 7, f), rows, cols);
    // offsets alone reproduce W exactly when it is a sum of a row and a column term
    const sum = randomMatrix(20, 10, 1, (_u, i, j) => 3 * i + 0.5 * j);
    const back = decodeInt8(encodeInt8(sum, 20, 10));
    assert.ok(back.every((x, k) => Math.abs(x - sum[k]) < 1e-5));
  });

  test('the minima are taken in the order the pip package takes them', () => {
    const w = randomMatrix(6, 4, 3);
    const tall = encodeInt8(w, 6, 4); // more rows: per-row minimum first
    for (let i = 0; i < 6; i++) assert.equal(tall.my[i], Math.min(...w.slice(4 * i, 4 * i + 4)));
    const wide = encodeInt8(w, 4, 6); // otherwise: per-column minimum first
    for (let j = 0; j < 6; j++) assert.equal(wide.mx[j], Math.min(...[0, 1, 2, 3].map((i) => w[6 * i + j])));
  });

  test('a linear weight (out, in) is encoded transposed, as the pip package stores it, and decodes back to (out, in)', () => {
    const w = randomMatrix(5, 8, 4); // out 5, in 8
    const m = encodeLinearInt8(w, 5, 8);
    assert.deepEqual([m.rows, m.cols], [8, 5]);
    assert.deepEqual(m.q, encodeInt8(transpose(w, 5, 8), 8, 5).q);
    const back = decodeLinearInt8(m);
    assert.ok(back.every((x, k) => Math.abs(x - w[k]) <= 2 / 512));
  });
});

/** An orthonormal n×n matrix (Q of a random matrix's QR). */
function orthogonal(n: number, seed: number): Matrix {
  return new QrDecomposition(new Matrix([...Array(n)].map((_, i) => [...randomMatrix(1, n, seed + i)]))).orthogonalMatrix;
}

describe('low-rank factors (truncated SVD, √Σ split)', () => {
  test('at full rank W₂·W₁ reproduces W', () => {
    const w = randomMatrix(12, 8, 5);
    const f = factorise(w, 12, 8, 8);
    assert.equal(f.w1.length, 8 * 8);
    assert.equal(f.w2.length, 12 * 8);
    assert.ok(approxError(w, reconstruct(f)).maxAbs < 1e-5);
  });

  test('at rank r the error is the norm of the discarded singular values (Eckart–Young)', () => {
    const s = [9, 5, 3, 2, 1, 0.5, 0.25, 0.1];
    const u = orthogonal(12, 100);
    const v = orthogonal(8, 200);
    const w = new Float32Array(12 * 8);
    for (let i = 0; i < 12; i++) for (let j = 0; j < 8; j++) for (let k = 0; k < 8; k++) w[i * 8 + j] += u.get(i, k) * s[k] * v.get(j, k);
    for (const rank of [1, 3, 5]) {
      const f = factorise(w, 12, 8, rank);
      f.singular.forEach((x, k) => assert.ok(Math.abs(x - s[k]) < 1e-5));
      const approx = reconstruct(f);
      const err = Math.sqrt(w.reduce((a, x, k) => a + (x - approx[k]) ** 2, 0));
      assert.ok(Math.abs(err - tailNorm(s, rank)) < 1e-5, `rank ${rank}: ${err} vs ${tailNorm(s, rank)}`);
      // √Σ on both sides: W₁'s rows and W₂'s columns both have norm √σ
      for (let k = 0; k < rank; k++) {
        const row = Math.hypot(...f.w1.slice(8 * k, 8 * k + 8));
        const col = Math.hypot(...[...Array(12)].map((_, i) => f.w2[i * rank + k]));
        assert.ok(Math.abs(row - Math.sqrt(s[k])) < 1e-5 && Math.abs(col - Math.sqrt(s[k])) < 1e-5);
      }
    }
  });

  test("a low-rank model's layout: two factors per projection, the diagonal skip for relu2, config.json says so", () => {
    const shape = { version: '5.2' as const, layers: 2, embd: 32, headSize: 8, ffn: 64, vocab: 300, groupNormEps: 64e-5 };
    const w = randomWeights(shape, 2);
    const linear = lowRankModel(w, { factor: 4, kind: 'linear' });
    assert.equal(linear.projections.length, 2 * 5);
    for (const p of ['att.receptance', 'att.key', 'att.value', 'att.gate', 'ffn.receptance']) {
      assert.equal(linear.tensors.has(`blocks.1.${p}.weight`), false);
      assert.deepEqual(linear.tensors.get(`blocks.1.${p}1.weight`)!.shape, [8, 32]);
      assert.deepEqual(linear.tensors.get(`blocks.1.${p}2.weight`)!.shape, [32, 8]);
      assert.equal(linear.tensors.has(`blocks.1.${p}_diag`), false);
    }
    assert.ok(linear.tensors.has('blocks.1.att.output.weight') && linear.tensors.has('blocks.1.ffn.key.weight'));
    assert.ok(linear.projections.every((p) => p.factoredParams === 2 * 8 * 32 && p.relFrobenius > 0 && p.relFrobenius < 1));
    const relu2 = lowRankModel(w, { factor: 4, kind: 'relu2' });
    const d = relu2.tensors.get('blocks.0.att.key_diag')!;
    assert.ok(d.data.length === 32 && d.data.every((x) => Math.abs(x) <= 1e-4) && d.data.some((x) => x !== 0));
    const dir = join(tempDir(), 'lowrank');
    writeLowRankDir(dir, relu2, { f16: true });
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).lowrank, { factor: 4, rank: 8, kind: 'relu2' });
  });
});

describe('embedding cache', () => {
  const A = 1;
  const B = 2;
  const C = 3;
  const run = (policy: 'fifo' | 'lru', seq: number[]) => {
    const cache = new EmbeddingCache(2, policy);
    const hits = seq.map((t) => cache.lookup(t));
    return { hits, contents: cache.contents(), stats: cache.stats(10) };
  };

  test('FIFO: a hit does not refresh, so the oldest insertion goes first', () => {
    // A miss, B miss, A hit, C miss (evicts A), A miss (evicts B), B miss (evicts C)
    const r = run('fifo', [A, B, A, C, A, B]);
    assert.deepEqual(r.hits, [false, false, true, false, false, false]);
    assert.deepEqual(r.contents, [A, B]);
    assert.deepEqual(r.stats, { lookups: 6, hits: 1, misses: 5, hitRate: 1 / 6, bytesRead: 50 });
  });

  test('LRU: a hit refreshes, so the least recently used goes first', () => {
    // A miss, B miss, A hit, C miss (evicts B), A hit, B miss (evicts C)
    const r = run('lru', [A, B, A, C, A, B]);
    assert.deepEqual(r.hits, [false, false, true, false, true, false]);
    assert.deepEqual(r.contents, [A, B]);
    assert.equal(r.stats.hits, 2);
  });

  test('hit rates grow with the cache and never exceed the distinct-token bound', () => {
    const next = uniform(9);
    const tokens = Array.from({ length: 5000 }, () => Math.floor(Math.exp(next() * Math.log(3000)))); // Zipf-like
    const rows = hitRates(tokens, [10, 100, 1000, 4000], 'fifo', 4);
    const distinct = new Set(tokens).size;
    for (let k = 1; k < rows.length; k++) assert.ok(rows[k].hitRate >= rows[k - 1].hitRate);
    assert.equal(rows[3].misses, distinct);
    assert.equal(rows[0].bytesRead, rows[0].misses * 4);
  });
});

describe('memory accounting (§4)', () => {
  const MIB = 2 ** 20;
  const PAPER_SETTING: Techniques = {
    lowrank: { factor: 8 },
    sparseFfn: { density: { value: 0.25, source: '§4' }, predictorBits: 1, mlpHidden: 64 },
    clusterHead: { clusters: 200, touched: { value: 0.13, source: '§3.4' } },
    embCache: { rows: 1000 },
  };
  // §1.1's parameter counts (M) and §4's table: fp16 baseline, after low-rank, resident (MB = MiB), ratio
  const TABLE: [string, number, number, number, number, number][] = [
    ['rwkv5-world-0.1b', 192.8, 368, 317, 77, 4.8],
    ['rwkv5-world-0.4b', 461.7, 881, 701, 236, 3.7],
    ['rwkv5-world-1.5b', 1578, 3009, 2290, 877, 3.4],
    ['rwkv5-world-3b', 3063, 5842, 4343, 1783, 3.3],
  ];

  test("each preset's dense fp16 bytes are twice §1.1's parameter count", () => {
    assert.deepEqual(
      TABLE.map((r) => r[0]),
      [...RWKV_PRESETS],
    );
    for (const [name, params] of TABLE) {
      const a = memoryAccount(presetDims(name as (typeof RWKV_PRESETS)[number]), 'fp16');
      assert.ok(Math.abs(a.denseBytes / 2 / 1e6 - params) / params < 5e-4, `${name}: ${a.denseBytes / 2 / 1e6} M parameters`);
      assert.equal(a.residentBytes, a.denseBytes);
      assert.equal(memoryAccount(presetDims(name as (typeof RWKV_PRESETS)[number]), 'fp32').denseBytes, 2 * a.denseBytes);
    }
  });

  test("§4's worked example: 0.1B at f = 8, 25 % FFN, 1-bit + MLP predictor, 13 % head, 1000 rows is about 77 MB and 4.8×", () => {
    for (const [name, , dense, lowrank, resident, ratio] of TABLE) {
      const dims = presetDims(name as (typeof RWKV_PRESETS)[number]);
      const a = memoryAccount(dims, 'fp16', PAPER_SETTING);
      assert.ok(Math.abs(a.denseBytes / MIB - dense) <= 1, `${name} dense ${a.denseBytes / MIB}`);
      assert.ok(Math.abs(memoryAccount(dims, 'fp16', { lowrank: { factor: 8 } }).residentBytes / MIB - lowrank) <= 1);
      assert.ok(Math.abs(a.residentBytes / MIB - resident) <= 1, `${name} resident ${a.residentBytes / MIB}`);
      assert.equal(a.ratio.toFixed(1), ratio.toFixed(1));
    }
  });

  test('INT8 about halves the resident matrices; a density of 1 per layer loads the whole FFN', () => {
    const dims = presetDims('rwkv5-world-0.4b');
    const fp16 = memoryAccount(dims, 'fp16', PAPER_SETTING);
    const int8 = memoryAccount(dims, 'fp16', { ...PAPER_SETTING, int8: true });
    assert.ok(int8.byCategory.attention.resident < 0.52 * fp16.byCategory.attention.resident);
    assert.equal(int8.byCategory.embedding.resident, fp16.byCategory.embedding.resident, 'the embedding is never INT8');
    const full = memoryAccount(dims, 'fp16', {
      sparseFfn: { density: { value: Array(24).fill(1), source: 't' }, predictorBits: 1, mlpHidden: 64 },
    });
    assert.equal(full.byCategory.ffnKeyValue.resident, full.byCategory.ffnKeyValue.dense);
    assert.ok(full.byCategory.predictors.resident > 0 && full.ratio < 1);
  });
});

describe('the held-out stream the cache is measured on', () => {
  test('every test passage in corpus order, each after end-of-text, as the model reads it', () => {
    const bpe = Gpt2Bpe.load();
    const vocab = [GPT2_EOT, ...Array.from({ length: 256 }, (_, b) => bpe.byteId(b)), ...new Set(bpe.encode(' the of and to'))];
    const tok = new RwkvTokenizer(bpe, vocab);
    const passages = lmPassages('test');
    const stream = testStream(tok);
    assert.equal(stream[0], tok.eot);
    assert.equal(stream.filter((t) => t === tok.eot).length, passages.length);
    assert.deepEqual(stream.slice(1, 1 + tok.encode(passages[0].text).length), tok.encode(passages[0].text));
    const [small, large] = hitRates(stream, [50, 200], 'fifo', 2);
    assert.ok(small.hitRate > 0.5 && large.hitRate >= small.hitRate && large.lookups === stream.length);
  });
});
