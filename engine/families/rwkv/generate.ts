/**
 * Text generation: temperature and nucleus (top-p) sampling from a seeded generator, so one seed gives
 * one text on every run and machine. Temperature 0 is greedy decoding.
 */
import { argmax } from './compare.js';

/** A model run one token at a time from its zero state. */
export interface Stepper {
  reset(): void;
  /** Feeds a token; the logits of the next one. */
  step(token: number): Promise<Float32Array>;
}

export interface SamplingOptions {
  temperature: number;
  topP: number;
}

/** mulberry32: a small, well-mixed 32-bit generator; uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The next token: the most probable at temperature 0, else a draw from the top-p nucleus at temperature T. */
export function sampleToken(logits: Float32Array, opts: SamplingOptions, random: () => number): number {
  if (opts.temperature <= 0) return argmax(logits);
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const probs = Array.from(logits, (v, id) => ({ id, p: Math.exp((v - max) / opts.temperature) }));
  const sum = probs.reduce((s, x) => s + x.p, 0);
  probs.sort((a, b) => b.p - a.p || a.id - b.id);
  // The smallest prefix whose mass reaches top-p (always at least the most probable token).
  let mass = 0;
  let n = 0;
  while (n < probs.length && (n === 0 || mass < opts.topP * sum)) mass += probs[n++]!.p;
  let r = random() * mass;
  for (let i = 0; i < n; i++) {
    r -= probs[i]!.p;
    if (r < 0) return probs[i]!.id;
  }
  return probs[n - 1]!.id;
}

export interface GenerationStats {
  promptTokens: number;
  tokens: number[];
  /** Time to feed the prompt, ms. */
  promptMs: number;
  /** Time to generate the new tokens, ms. */
  generateMs: number;
}

/** Feeds end-of-text and the prompt, then generates `count` tokens, handing each to `onToken` as it comes. */
export async function generate(
  m: Stepper,
  eot: number,
  prompt: readonly number[],
  count: number,
  opts: SamplingOptions & { seed: number },
  onToken: (id: number) => void,
): Promise<GenerationStats> {
  const random = seededRandom(opts.seed);
  const start = performance.now();
  m.reset();
  let logits = await m.step(eot);
  for (const t of prompt) logits = await m.step(t);
  const promptMs = performance.now() - start;
  const tokens: number[] = [];
  for (let i = 0; i < count; i++) {
    const next = sampleToken(logits, opts, random);
    tokens.push(next);
    onToken(next);
    if (i + 1 < count) logits = await m.step(next);
  }
  return { promptTokens: prompt.length, tokens, promptMs, generateMs: performance.now() - start - promptMs };
}
