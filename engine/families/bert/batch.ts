import type { TokenIds } from './tokenizer.js';

/** Padded token ids and attention mask for a batch of examples, ready for the embedding graph. */
export interface Batch {
  size: number;
  length: number;
  ids: BigInt64Array;
  mask: Float32Array;
  /**
   * Token type (segment) ids, only for sentence pairs: 0 for [CLS] a [SEP], 1 for b [SEP]. Absent, every
   * token is of type 0 and the model runs its graphs without a token_type_ids input.
   */
  types?: BigInt64Array;
}

/** Batches of `seqs`; with `types` (for sentence pairs), each sequence's token types (undefined: all 0). */
export function makeBatch(seqs: TokenIds[], types?: (Uint8Array | undefined)[]): Batch {
  const length = Math.max(...seqs.map((s) => s.length));
  const ids = new BigInt64Array(seqs.length * length);
  const mask = new Float32Array(seqs.length * length);
  seqs.forEach((s, b) => {
    for (let t = 0; t < s.length; t++) {
      ids[b * length + t] = BigInt(s[t]);
      mask[b * length + t] = 1;
    }
  });
  if (!types?.some((t) => t)) return { size: seqs.length, length, ids, mask };
  const tt = new BigInt64Array(seqs.length * length);
  types.forEach((t, b) => t?.forEach((v, i) => (tt[b * length + i] = BigInt(v))));
  return { size: seqs.length, length, ids, mask, types: tt };
}

/**
 * Splits examples into batches of similar length (less padding), returning indices into `seqs`;
 * results are written back by index, so the caller's order is kept.
 */
export function lengthBuckets(seqs: TokenIds[], batchSize: number): number[][] {
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[a].length - seqs[b].length || a - b);
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}

/** A deterministic input for shape-only models: [CLS], ids, [SEP] (ids 2 and 3 in the fixtures' vocabulary). */
export function syntheticTokens(length: number, vocab: number): Int32Array {
  return Int32Array.from({ length }, (_, i) => (i === 0 ? 2 : i === length - 1 ? 3 : 5 + ((i * 7919) % (vocab - 5))));
}

/** The batch cut into consecutive batches of whole examples, each at most `maxRows` tokens (at least one example); views, no copies. */
export function splitRows(batch: Batch, maxRows: number): Batch[] {
  const per = Math.max(1, Math.floor(maxRows / batch.length));
  const parts: Batch[] = [];
  for (let i = 0; i < batch.size; i += per) {
    const size = Math.min(per, batch.size - i);
    const [from, to] = [i * batch.length, (i + size) * batch.length];
    const types = batch.types?.subarray(from, to);
    parts.push({
      size,
      length: batch.length,
      ids: batch.ids.subarray(from, to),
      mask: batch.mask.subarray(from, to),
      ...(types && { types }),
    });
  }
  return parts;
}
