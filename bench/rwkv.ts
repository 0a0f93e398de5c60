/**
 * RWKV in RNN mode on onnxruntime-node: tokens/s of greedy decoding, and how a token's time splits into
 * the step graph's session.run and everything around it (embedding-row tensor, state hand-over, argmax).
 * Also compares matrices as graph initializers with matrices fed as inputs, and intra-op threads that spin.
 *
 * Measured on the random fixture-shape directory, 256 tokens, 2 threads, four runs on a 2-core machine busy
 * with a training job (load 5–7; noisy): initializers 208–349 tokens/s (2.9–4.8 ms/token), of which
 * 0.8–1.5 % is around session.run (about 8 µs in step() outside run, 15 µs argmax); inputs 157–250
 * tokens/s; initializers with spinning threads 110–127 tokens/s.
 *
 *   npm run bench:rwkv -- [--model DIR|FILE.bin] [--tokens N] [--threads T]
 *
 * Without a model it uses fixtures/models/rwkv5-en, or, while that does not exist, a random-weight
 * directory of its shape (5.2, 6 layers, D 256, head 64, FFN 896, vocab 8192, F16 matrices).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { argmax } from '../engine/families/rwkv/compare.js';
import { loadRwkv } from '../engine/families/rwkv/load.js';
import { writeModelDir } from '../engine/families/rwkv/model-dir.js';
import { FIXTURE_SHAPE, randomWeights } from '../engine/families/rwkv/random-model.js';
import { RwkvRunner } from '../engine/families/rwkv/runner.js';
import type { WeightsAs } from '../engine/families/rwkv/step-graph.js';
import { describe, type RwkvWeights } from '../engine/families/rwkv/weights.js';

const FIXTURE = 'fixtures/models/rwkv5-en';
const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    tokens: { type: 'string', default: '256' },
    threads: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '16' },
  },
});
const N = Number(values.tokens);
const threads = Number(values.threads);
const warmup = Number(values.warmup);

function modelPath(): string {
  if (values.model) return values.model;
  if (existsSync(FIXTURE)) return FIXTURE;
  const dir = join(mkdtempSync(join(tmpdir(), 'shardlab-rwkv-bench-')), 'rwkv5-random');
  writeModelDir(dir, randomWeights(FIXTURE_SHAPE, 1), { f16: true });
  console.log(`${FIXTURE} does not exist yet: using a random-weight directory of its shape instead (${dir})`);
  return dir;
}

interface Measured {
  tokensPerSecond: number;
  /** Per token, ms: the whole loop iteration, session.run within it, the rest of step() (input tensor, state hand-over), argmax. */
  tokenMs: number;
  runMs: number;
  stepRestMs: number;
  argmaxMs: number;
}

interface Setup {
  weightsAs: WeightsAs;
  spin: boolean;
}

/** Greedy decoding of N tokens after a warm-up: each step's argmax is the next token. */
async function measure(w: RwkvWeights, setup: Setup): Promise<Measured> {
  const r = await RwkvRunner.open(w, { threads, ...setup });
  let token = 0;
  for (let i = 0; i < warmup; i++) token = argmax(await r.step(token));
  r.reset();
  const before = { ...r.times };
  let argmaxMs = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const logits = await r.step(token);
    const t = performance.now();
    token = argmax(logits);
    argmaxMs += performance.now() - t;
  }
  const wall = performance.now() - t0;
  const runMs = (r.times.runMs - before.runMs) / N;
  const stepRestMs = (r.times.totalMs - before.totalMs) / N - runMs;
  await r.release();
  return { tokensPerSecond: (1000 * N) / wall, tokenMs: wall / N, runMs, stepRestMs, argmaxMs: argmaxMs / N };
}

const SETUPS: Setup[] = [
  { weightsAs: 'initializers', spin: false },
  { weightsAs: 'inputs', spin: false },
  { weightsAs: 'initializers', spin: true },
];
const label = (s: Setup) => `${s.weightsAs}${s.spin ? ', spinning' : ''}`;

const path = modelPath();
const w = loadRwkv(path);
console.log(`model       ${path} (${describe(w)})`);
console.log(`run         ${N} tokens of greedy decoding after ${warmup} warm-up tokens, ${threads} threads`);
const results = new Map<Setup, Measured[]>(SETUPS.map((s) => [s, []]));
// Two rounds in opposite orders, so a busy machine's noise falls on every setup.
for (const order of [SETUPS, [...SETUPS].reverse()]) for (const s of order) results.get(s)!.push(await measure(w, s));
const us = (ms: number) => `${(1000 * ms).toFixed(0)} µs`;
for (const s of SETUPS) {
  const best = results.get(s)!.reduce((a, b) => (b.tokensPerSecond > a.tokensPerSecond ? b : a));
  const around = best.tokenMs - best.runMs;
  console.log(
    `${label(s).padEnd(23)} ${best.tokensPerSecond.toFixed(1).padStart(6)} tokens/s; per token ${best.tokenMs.toFixed(3)} ms = session.run ${best.runMs.toFixed(3)} ms + around it ${around.toFixed(3)} ms (${((100 * around) / best.tokenMs).toFixed(1)} %: step() outside run ${us(best.stepRestMs)}, argmax ${us(best.argmaxMs)}, the loop ${us(around - best.stepRestMs - best.argmaxMs)})`,
  );
}
console.log('best of two rounds each; the first row is the runner default; timings on a shared machine are noisy');
