/**
 * Quick modes measure on a fixed random sample of a split, stratified by label: the same examples on
 * every run and machine, each label in proportion to the split. "The first N" is not a sample (corpora
 * are ordered by source, date or label), so a quick answer could sit far from the full split's.
 */
import { hash } from 'node:crypto';

export interface Labelled {
  /** Stable id of the item inside its corpus: the sample is a function of ids, not of list order. */
  id: string;
  label: number;
}

/**
 * How many of each label a sample of n takes: n × the label's share, floors first, the units left over to
 * the largest remainders (ties to the lower label), so each count is within 1 of its exact share.
 */
export function stratumSizes(counts: number[], n: number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const exact = counts.map((c) => (total ? (n * c) / total : 0));
  const sizes = exact.map(Math.floor);
  let left = n - sizes.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    if (sizes[i] < counts[i]) {
      sizes[i]++;
      left--;
    }
  }
  return sizes;
}

function rank(id: string): string {
  return hash('sha256', `shardlab-sample:${id}`, 'hex');
}

/**
 * A stratified random sample of n items, in their original order. Within a label the items with the lowest
 * sha256 of their id are taken, so samples are deterministic and nested (the sample of 100 lies inside the
 * sample of 200, up to the one-unit rounding of the strata). n at or above the count returns every item.
 */
export function stratifiedSample<T extends Labelled>(items: T[], n: number): T[] {
  if (n >= items.length) return items.slice();
  const labels = Math.max(-1, ...items.map((e) => e.label)) + 1;
  const byLabel = Array.from({ length: labels }, () => [] as { i: number; key: string }[]);
  items.forEach((e, i) => byLabel[e.label].push({ i, key: rank(e.id) }));
  const sizes = stratumSizes(
    byLabel.map((b) => b.length),
    n,
  );
  const keep = new Set<number>();
  byLabel.forEach((b, label) => {
    b.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.i - y.i));
    for (const { i } of b.slice(0, sizes[label])) keep.add(i);
  });
  return items.filter((_, i) => keep.has(i));
}

/**
 * The key answers measured on a split, or on a stratified sample of n of its examples, are stored under:
 * "dev" for all of it, "dev~strat200" for a sample of 200. (Keys of the older first-N quick mode,
 * "dev[:200]", name other examples and are never confused with these.)
 */
export function sampleKey(split: string, n: number, all: number): string {
  return n < all ? `${split}~strat${n}` : split;
}

/**
 * How many examples a stored split key covers: the split's count for the bare split, n for a sample of n;
 * undefined for keys of other splits and for the older first-N keys (not a sample of the split).
 */
export function keyExamples(key: string, split: string, all: number): number | undefined {
  if (key === split) return all;
  const m = /^(.+)~strat(\d+)$/.exec(key);
  return m && m[1] === split ? Number(m[2]) : undefined;
}
