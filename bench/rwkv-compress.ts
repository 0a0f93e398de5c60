/**
 * RWKV-edge's compression techniques measured on the fixture's shape (issue 14, part A):
 *
 * - INT8 round trip (rwkv pip scheme): max |Δ| per matrix kind, and as a fraction of the matrix's range;
 * - low-rank SVD factors at f = 4, 8, 16: relative Frobenius error per projection (mean and range over
 *   layers) and, for x059 at its SVD initialisation, how far its output is from the dense projection's;
 * - the embedding cache's hit rate on the held-out test text (FIFO and LRU), which needs only vocab.json;
 * - the paper-scale memory table of the rwkv5-world presets beside §4's arithmetic.
 *
 *   npm run bench:rwkv-compress -- [--model DIR]
 *
 * Weights: DIR, else fixtures/models/rwkv5-en when its model.safetensors exists, else random weights of
 * its shape (random-model.ts). The cache needs fixtures/models/rwkv5-en/vocab.json (or DIR's).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CACHE_SIZES, hitRates, testStream } from '../engine/families/rwkv/compress/emb-cache.js';
import { decodeLinearInt8, encodeLinearInt8 } from '../engine/families/rwkv/compress/int8.js';
import { LOWRANK_PROJECTIONS } from '../engine/families/rwkv/compress/lowrank-model.js';
import { approxError, factorise, rankFor, reconstruct, truncate, type LowRankFactors } from '../engine/families/rwkv/compress/lowrank.js';
import { memoryAccount, type Techniques } from '../engine/families/rwkv/compress/memory.js';
import { loadModelDir } from '../engine/families/rwkv/model-dir.js';
import { presetDims, RWKV_PRESETS } from '../engine/families/rwkv/presets.js';
import { FIXTURE_SHAPE, randomWeights, uniform } from '../engine/families/rwkv/random-model.js';
import { RwkvTokenizer } from '../engine/families/rwkv/tokenizer.js';
import type { RwkvWeights } from '../engine/families/rwkv/weights.js';

const FIXTURE = 'fixtures/models/rwkv5-en';
const { values } = parseArgs({ options: { model: { type: 'string' } } });
const dir = values.model ?? FIXTURE;
const real = existsSync(join(dir, 'model.safetensors'));
const w: RwkvWeights = real ? loadModelDir(dir) : randomWeights(FIXTURE_SHAPE, 1);
console.log(`# weights: ${real ? `${dir}/model.safetensors` : 'random, of the fixture shape (random-model.ts, seed 1)'}\n`);

const kindOf = (name: string) => name.replace(/^blocks\.\d+\./, '');
const matrices = [...w.tensors].filter(([n, t]) => t.shape.length === 2 && !n.includes('.time_') && n !== 'emb.weight');

function int8Table(): void {
  console.log('## INT8 round trip (every matrix but the embedding)\n');
  console.log('| matrix | shape | largest error | largest error / range | bound: 1/512 of the range |');
  console.log('|---|---|---|---|---|');
  const byKind = new Map<string, { shape: number[]; maxAbs: number; rel: number }>();
  for (const [name, t] of matrices) {
    const [rows, cols] = t.shape;
    const back = decodeLinearInt8(encodeLinearInt8(t.data, rows, cols)); // as the pip package: transposed
    let [lo, hi] = [Infinity, -Infinity];
    for (const x of t.data) [lo, hi] = [Math.min(lo, x), Math.max(hi, x)];
    const { maxAbs } = approxError(t.data, back);
    const k = byKind.get(kindOf(name)) ?? { shape: t.shape, maxAbs: 0, rel: 0 };
    byKind.set(kindOf(name), { shape: t.shape, maxAbs: Math.max(k.maxAbs, maxAbs), rel: Math.max(k.rel, maxAbs / (hi - lo)) });
  }
  for (const [kind, k] of byKind)
    console.log(
      `| ${kind} | ${k.shape.join('×')} | ${k.maxAbs.toExponential(2)} | ${k.rel.toExponential(3)} | ${(1 / 512).toExponential(3)} |`,
    );
}

/** y = W₂·relu(W₁x)² + d⊙x against y = W·x on unit-normal inputs: relative L2 distance. */
function relu2Distance(w: Float32Array, f: LowRankFactors, next: () => number): number {
  let num = 0;
  let den = 0;
  for (let s = 0; s < 16; s++) {
    const x = Array.from({ length: f.cols }, () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()));
    const h = Array.from({ length: f.rank }, (_, k) => Math.max(0, dot(f.w1, k * f.cols, x)) ** 2);
    for (let i = 0; i < f.rows; i++) {
      const dense = dot(w, i * f.cols, x);
      const lr = dot(f.w2, i * f.rank, h) + (2 * next() - 1) * 1e-4 * x[i];
      num += (lr - dense) ** 2;
      den += dense ** 2;
    }
  }
  return Math.sqrt(num / den);
}

const dot = (a: Float32Array, off: number, x: number[]) => x.reduce((s, v, j) => s + a[off + j] * v, 0);

function lowRankTable(): void {
  console.log('\n## Low-rank factors (truncated SVD, √Σ split): relative Frobenius error ‖W − W₂W₁‖/‖W‖\n');
  const factors = [4, 8, 16];
  const errs = new Map<string, number[][]>(); // projection → per factor → per layer
  const relu2 = new Map<string, number[]>();
  const next = uniform(5);
  for (let layer = 0; layer < w.layers; layer++) {
    for (const p of LOWRANK_PROJECTIONS) {
      const t = w.tensors.get(`blocks.${layer}.${p}.weight`);
      if (!t) continue;
      const [rows, cols] = t.shape;
      const full = factorise(t.data, rows, cols, Math.min(rows, cols));
      if (!errs.has(p))
        errs.set(
          p,
          factors.map(() => []),
        );
      factors.forEach((f, k) => {
        const cut = truncate(full, rankFor(w.embd, f));
        errs.get(p)![k].push(approxError(t.data, reconstruct(cut)).relFrobenius);
        if (f === 8) relu2.set(p, [...(relu2.get(p) ?? []), relu2Distance(t.data, cut, next)]);
      });
    }
  }
  const cell = (xs: number[]) => `${mean(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;
  console.log(
    `| projection | ${factors.map((f) => `f = ${f} (rank ${rankFor(w.embd, f)})`).join(' | ')} | x059 at SVD init, f = 8: ‖y − Wx‖/‖Wx‖ |`,
  );
  console.log(`|---|${factors.map(() => '---|').join('')}---|`);
  for (const [p, byF] of errs) console.log(`| ${p} | ${byF.map(cell).join(' | ')} | ${cell(relu2.get(p)!)} |`);
  console.log('\n(mean over layers, range in brackets)');
  const D = w.embd;
  const sizes = factors.map((f) => `f = ${f}: ${((2 * 2 * rankFor(D, f) * D) / 1024).toFixed(0)} KiB`).join(', ');
  console.log(`\nBytes per projection (fp16): dense ${((2 * D * D) / 1024).toFixed(0)} KiB; W₁ + W₂ at ${sizes}.`);
  console.log('\nPer layer at f = 8:\n');
  console.log(`| layer | ${[...errs.keys()].join(' | ')} |`);
  console.log(`|---|${[...errs.keys()].map(() => '---|').join('')}`);
  for (let layer = 0; layer < w.layers; layer++)
    console.log(`| ${layer} | ${[...errs.values()].map((byF) => byF[1][layer].toFixed(3)).join(' | ')} |`);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function cacheTable(): void {
  const vocab = existsSync(join(dir, 'vocab.json')) ? join(dir, 'vocab.json') : join(FIXTURE, 'vocab.json');
  if (!existsSync(vocab)) return console.log(`\n(embedding cache skipped: ${vocab} is missing)`);
  const tokens = testStream(RwkvTokenizer.fromFile(vocab));
  const distinct = new Set(tokens).size;
  console.log(`\n## Embedding cache on the test split: ${tokens.length} tokens, ${distinct} distinct (${vocab})\n`);
  const rowBytes = 2 * w.embd;
  const fifo = hitRates(tokens, CACHE_SIZES, 'fifo', rowBytes);
  const lru = hitRates(tokens, CACHE_SIZES, 'lru', rowBytes);
  console.log('| rows N | resident (fp16) | FIFO hit rate | LRU hit rate | FIFO rows read per 1000 tokens |');
  console.log('|---|---|---|---|---|');
  fifo.forEach((f, k) => {
    const kb = ((f.rows * rowBytes) / 1024).toFixed(0);
    console.log(
      `| ${f.rows} | ${kb} KiB | ${(100 * f.hitRate).toFixed(1)} % | ${(100 * lru[k].hitRate).toFixed(1)} % | ${((1000 * f.misses) / f.lookups).toFixed(0)} |`,
    );
  });
}

function memoryTable(): void {
  const MIB = 2 ** 20;
  const paper: Techniques = {
    lowrank: { factor: 8 },
    sparseFfn: { density: { value: 0.25, source: '§4' }, predictorBits: 1, mlpHidden: 64 },
    clusterHead: { clusters: 200, touched: { value: 0.13, source: '§3.4' } },
    embCache: { rows: 1000 },
  };
  const SECTION4: Record<string, string> = {
    'rwkv5-world-0.1b': '368 / 317 / 77 / 4.8× / ≈ 9.6×',
    'rwkv5-world-0.4b': '881 / 701 / 236 / 3.7× / ≈ 7.5×',
    'rwkv5-world-1.5b': '3009 / 2290 / 877 / 3.4× / ≈ 6.9×',
    'rwkv5-world-3b': '5842 / 4343 / 1783 / 3.3× / —',
  };
  console.log(
    '\n## Paper scale (shape only), fp16, §4 setting: f = 8, 25 % FFN, 1-bit + MLP predictor, K 200 with 13 % touched, 1000 rows (MiB)\n',
  );
  console.log(
    '| model | dense | low-rank | attention | FFN k+v | FFN r | predictors | head | embedding | vectors | resident | ratio | with INT8 | §4: dense / low-rank / resident / ratio / INT8 |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const p of RWKV_PRESETS) {
    const d = presetDims(p);
    const a = memoryAccount(d, 'fp16', paper);
    const lr = memoryAccount(d, 'fp16', { lowrank: { factor: 8 } });
    const i8 = memoryAccount(d, 'fp16', { ...paper, int8: true });
    const c = (x: number) => (x / MIB).toFixed(1);
    const cats = Object.values(a.byCategory).map((x) => c(x.resident));
    console.log(
      `| ${p} | ${c(a.denseBytes)} | ${c(lr.residentBytes)} | ${cats.join(' | ')} | ${c(a.residentBytes)} | ${a.ratio.toFixed(2)}× | ${i8.ratio.toFixed(2)}× | ${SECTION4[p]} |`,
    );
  }
}

int8Table();
lowRankTable();
cacheTable();
memoryTable();
