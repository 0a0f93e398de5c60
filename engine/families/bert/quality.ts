import type { ShardStore } from './shard-store.js';

export interface BitsQuality {
  bits: number;
  /** ||w - ŵ|| / ||w|| over every shard's matrices at this bitwidth. */
  relativeError: number;
  outlierFraction: number;
  bytes: number;
  /** Dev accuracy of the full-size model with every shard at this bitwidth (when evaluated). */
  accuracy?: number;
  /** Its 95 % interval and the examples it was measured on (when evaluated). */
  accuracyInterval?: { low: number; high: number };
  examples?: number;
}

export interface QualityReport {
  perBits: BitsQuality[];
  /** Bytes of all fidelity versions other than fp32: what STI adds on storage over the fp32 model. */
  extraBytes: number;
  fp32Bytes: number;
  /** Embeddings, pooler and classifier, stored once. */
  baseBytes: number;
  sharedBytes: number;
}

export function qualityReport(store: ShardStore): QualityReport {
  const m = store.manifest;
  const perBits = m.bits.map((bits) => {
    const shards = m.shards.filter((s) => s.bits === bits);
    const err = Math.sqrt(shards.reduce((a, s) => a + s.errorNorm ** 2, 0));
    const norm = Math.sqrt(shards.reduce((a, s) => a + s.weightNorm ** 2, 0));
    const weights = shards.reduce((a, s) => a + s.weights, 0);
    return {
      bits,
      relativeError: norm > 0 ? err / norm : 0,
      outlierFraction: weights > 0 ? shards.reduce((a, s) => a + s.outliers, 0) / weights : 0,
      bytes: shards.reduce((a, s) => a + m.files[s.file].bytes, 0),
    };
  });
  return {
    perBits,
    extraBytes: perBits.filter((q) => q.bits !== 32).reduce((a, q) => a + q.bytes, 0),
    fp32Bytes: perBits.find((q) => q.bits === 32)?.bytes ?? 0,
    baseBytes: m.files[m.base].bytes,
    sharedBytes: m.shared.reduce((a, f) => a + m.files[f].bytes, 0),
  };
}
