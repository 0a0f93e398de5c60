/**
 * Uncertainty of a measured accuracy: the Wilson score interval at 95 % for k correct out of n examples.
 * Wilson rather than the normal approximation because it stays inside [0, 1] and is honest at the small
 * counts of quick modes (200 examples: about ±6 points at 70 %). Source: E. B. Wilson, "Probable inference,
 * the law of succession, and statistical inference", JASA 22 (1927); the formula as in
 * https://en.wikipedia.org/wiki/Binomial_proportion_confidence_interval#Wilson_score_interval
 */

/** z for a two-sided 95 % interval. */
const Z95 = 1.959963984540054;

export interface Interval {
  /** Lower bound, as a fraction 0..1. */
  low: number;
  /** Upper bound, as a fraction 0..1. */
  high: number;
}

/** The 95 % Wilson interval of a proportion measured on `count` examples (accuracy as a fraction 0..1). */
export function wilson95(accuracy: number, count: number): Interval {
  if (!(count > 0)) return { low: 0, high: 1 };
  const p = Math.min(1, Math.max(0, accuracy));
  const z2 = Z95 * Z95;
  const denom = 1 + z2 / count;
  const centre = (p + z2 / (2 * count)) / denom;
  const half = (Z95 * Math.sqrt((p * (1 - p)) / count + z2 / (4 * count * count))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** "70.5 % ± 6.3" style text: the accuracy and the larger half-width of its 95 % interval, in points. */
export function formatAccuracy(accuracy: number, count: number, digits = 1): string {
  const { low, high } = wilson95(accuracy, count);
  const half = Math.max(accuracy - low, high - accuracy);
  return `${(100 * accuracy).toFixed(digits)} % ± ${(100 * half).toFixed(digits)}`;
}
