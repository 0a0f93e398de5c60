/** How far an engine's logits are from reference logits. */
export interface LogitsDiff {
  maxAbsDiff: number;
  /** Σ (logit − expected), signed: rwkv.cpp's pass criterion (errors of opposite sign cancel). */
  sumDiff: number;
  argmax: number;
  expectedArgmax: number;
  argmaxMatch: boolean;
}

export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

export function compareLogits(got: ArrayLike<number>, expected: ArrayLike<number>): LogitsDiff {
  if (got.length !== expected.length) throw new Error(`${got.length} logits against ${expected.length} expected`);
  let maxAbsDiff = 0;
  let sumDiff = 0;
  for (let i = 0; i < got.length; i++) {
    const d = got[i] - expected[i];
    // NaN must fail the comparison, not vanish in Math.max.
    maxAbsDiff = Number.isNaN(d) ? NaN : Math.max(maxAbsDiff, Math.abs(d));
    sumDiff += d;
    if (Number.isNaN(maxAbsDiff)) break;
  }
  const [a, b] = [argmax(got), argmax(expected)];
  return { maxAbsDiff, sumDiff, argmax: a, expectedArgmax: b, argmaxMatch: a === b };
}
/** log softmax(logits)[target], computed stably from the maximum. */
export function logSoftmaxAt(logits: Float32Array, target: number): number {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  return logits[target]! - max - Math.log(sum);
}
