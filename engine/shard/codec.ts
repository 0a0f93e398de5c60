/**
 * Outlier-aware dictionary quantization in GOBO's manner: fit a Gaussian to a shard's weights, keep the
 * weights far outside it as fp32 (position, value) pairs, and map the rest to b-bit indices into 2^b
 * centroids fitted by 1-D k-means (Lloyd's algorithm on the sorted values, so each pass is O(2^b log n)).
 */

/** Weights further than this many standard deviations from the mean are outliers (well under 1 %). */
export const OUTLIER_Z = 4;

export interface Quantized {
  bits: number;
  count: number;
  centroids: Float32Array;
  outlierPositions: Uint32Array;
  outlierValues: Float32Array;
  /** `count` indices of `bits` bits each, packed little-endian (LSB first). */
  packed: Uint8Array;
}

export function packedBytes(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

export function quantize(values: Float32Array, bits: number, z = OUTLIER_Z): Quantized {
  return quantizer(values, z)(bits);
}

/**
 * quantize of one array at any number of bitwidths: its outliers and sorted inliers are found once (on the
 * first call), not once per bitwidth. The array must not change while the quantizer is used.
 */
export function quantizer(values: Float32Array, z = OUTLIER_Z): (bits: number) => Quantized {
  let split: { outliers: number[]; sorted: Float64Array } | undefined;
  return (bits) => {
    if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new RangeError(`quantize: bits must be 1..8, got ${bits}`);
    split ??= splitOutliers(values, z);
    const { outliers, sorted } = split;
    const n = values.length;
    const centroids = fitCentroids(sorted, 2 ** bits);
    const bounds = boundaries(centroids);
    const indices = new Uint8Array(n);
    // The nearest centroid's index is the number of boundaries below the value.
    for (let i = 0; i < n; i++) indices[i] = lowerBound(bounds, values[i]);
    return {
      bits,
      count: n,
      centroids,
      outlierPositions: Uint32Array.from(outliers),
      outlierValues: Float32Array.from(outliers, (i) => values[i]),
      packed: packIndices(indices, bits),
    };
  };
}

/** The positions of the weights outside the fitted Gaussian, and the other values sorted. */
function splitOutliers(values: Float32Array, z: number): { outliers: number[]; sorted: Float64Array } {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n || 1;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (values[i] - mean) ** 2;
  const std = Math.sqrt(variance / (n || 1));
  const limit = z * std;

  const outliers: number[] = [];
  const inliers: number[] = [];
  for (let i = 0; i < n; i++) {
    if (std > 0 && Math.abs(values[i] - mean) > limit) outliers.push(i);
    else inliers.push(values[i]);
  }
  return { outliers, sorted: Float64Array.from(inliers).sort() };
}

/** Packs indices of `bits` bits each, little-endian, LSB first. */
export function packIndices(indices: Uint8Array, bits: number): Uint8Array {
  const packed = new Uint8Array(packedBytes(indices.length, bits));
  for (let i = 0, bit = 0; i < indices.length; i++, bit += bits) {
    const byte = bit >> 3;
    const word = indices[i] << (bit & 7);
    packed[byte] |= word & 0xff;
    if (word > 0xff) packed[byte + 1] |= word >> 8;
  }
  return packed;
}

/** 1-D k-means on sorted values: equal-count initialisation, then Lloyd iterations with prefix sums. */
function fitCentroids(sorted: Float64Array, k: number): Float32Array {
  const n = sorted.length;
  const c = new Float64Array(k);
  if (n === 0) return new Float32Array(k);
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + sorted[i];
  const mean = (a: number, b: number) => (prefix[b] - prefix[a]) / (b - a);
  for (let j = 0; j < k; j++) {
    const a = Math.floor((j * n) / k);
    const b = Math.max(a + 1, Math.floor(((j + 1) * n) / k));
    c[j] = mean(Math.min(a, n - 1), Math.min(b, n));
  }
  const cuts = new Int32Array(k + 1);
  for (let iter = 0; iter < 100; iter++) {
    cuts[0] = 0;
    cuts[k] = n;
    for (let j = 1; j < k; j++) cuts[j] = lowerBound(sorted, (c[j - 1] + c[j]) / 2);
    let moved = 0;
    for (let j = 0; j < k; j++) {
      if (cuts[j + 1] <= cuts[j]) continue; // an empty cluster keeps its centroid
      const next = mean(cuts[j], cuts[j + 1]);
      moved = Math.max(moved, Math.abs(next - c[j]));
      c[j] = next;
    }
    c.sort();
    if (moved <= 1e-9 * (Math.abs(sorted[n - 1] - sorted[0]) || 1)) break;
  }
  return Float32Array.from(c);
}

/** The number of entries of a sorted array below x. */
function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function boundaries(centroids: Float32Array): Float64Array {
  const b = new Float64Array(centroids.length - 1);
  for (let j = 0; j < b.length; j++) b[j] = (centroids[j] + centroids[j + 1]) / 2;
  return b;
}

/** Writes the dequantized weights into `out` (length q.count): a dictionary lookup, then the outliers. */
export function dequantizeInto(q: Quantized, out: Float32Array): void {
  const { bits, count, centroids, packed } = q;
  const mask = (1 << bits) - 1;
  // Two bytes hold any index of up to 8 bits at any bit offset; the tail reads one byte at a time.
  let i = 0;
  let bit = 0;
  const safe = Math.min(count, Math.floor(((packed.length - 1) * 8) / bits) - 1);
  for (; i < safe; i++, bit += bits) {
    const byte = bit >> 3;
    out[i] = centroids[((packed[byte] | (packed[byte + 1] << 8)) >> (bit & 7)) & mask];
  }
  for (; i < count; i++, bit += bits) {
    const byte = bit >> 3;
    const hi = byte + 1 < packed.length ? packed[byte + 1] << 8 : 0;
    out[i] = centroids[((packed[byte] | hi) >> (bit & 7)) & mask];
  }
  const { outlierPositions: pos, outlierValues: val } = q;
  for (let k = 0; k < pos.length; k++) out[pos[k]] = val[k];
}

/** ||w - ŵ|| / ||w|| */
export function relativeError(original: Float32Array, restored: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < original.length; i++) {
    num += (original[i] - restored[i]) ** 2;
    den += original[i] ** 2;
  }
  return den > 0 ? Math.sqrt(num / den) : 0;
}
