/**
 * RWKV-edge's embedding cache (rwkv-edge.md §3.3): the embedding table stays on storage and a cache of N
 * rows holds recent tokens. FIFO is the reference's policy (a hit does not refresh an entry); LRU is the
 * option. The cache holds at most N rows (the reference's dict briefly holds N + 1).
 */
import type { RwkvTokenizer } from '../tokenizer.js';
import { lmPassages } from '../corpus.js';

export type EvictionPolicy = 'fifo' | 'lru';

export interface CacheStats {
  lookups: number;
  hits: number;
  misses: number;
  hitRate: number;
  /** Rows read from storage (one per miss) times the bytes of a row. */
  bytesRead: number;
}

export class EmbeddingCache {
  // A Map iterates in insertion order: its first key is the oldest entry (FIFO) or least recent (LRU).
  private readonly rows = new Map<number, true>();
  hits = 0;
  misses = 0;

  constructor(
    readonly capacity: number,
    readonly policy: EvictionPolicy = 'fifo',
  ) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new Error(`EmbeddingCache: capacity ${capacity} is not a positive integer`);
  }

  /** Looks a token's row up; true on a hit. A miss reads the row and caches it, evicting one if full. */
  lookup(token: number): boolean {
    if (this.rows.has(token)) {
      this.hits++;
      if (this.policy === 'lru') {
        this.rows.delete(token);
        this.rows.set(token, true);
      }
      return true;
    }
    this.misses++;
    if (this.rows.size >= this.capacity) this.rows.delete(this.rows.keys().next().value!);
    this.rows.set(token, true);
    return false;
  }

  /** The cached tokens, oldest (FIFO) or least recently used (LRU) first. */
  contents(): number[] {
    return [...this.rows.keys()];
  }

  stats(rowBytes: number): CacheStats {
    const lookups = this.hits + this.misses;
    return { lookups, hits: this.hits, misses: this.misses, hitRate: lookups ? this.hits / lookups : 0, bytesRead: this.misses * rowBytes };
  }
}

/** Runs a token stream through a fresh cache of each size. */
export function hitRates(
  tokens: readonly number[],
  sizes: readonly number[],
  policy: EvictionPolicy,
  rowBytes: number,
): (CacheStats & { rows: number })[] {
  return sizes.map((rows) => {
    const cache = new EmbeddingCache(rows, policy);
    for (const t of tokens) cache.lookup(t);
    return { rows, ...cache.stats(rowBytes) };
  });
}

/** The cache sizes the README reports (the paper's 1000 among them). */
export const CACHE_SIZES = [100, 250, 500, 1000, 2000, 4000] as const;

/**
 * The held-out test text as the model reads it: every test passage in corpus order, each after an
 * end-of-text token, as one stream (the cache is not cleared between passages).
 */
export function testStream(tokenizer: RwkvTokenizer): number[] {
  const out: number[] = [];
  for (const p of lmPassages('test')) out.push(tokenizer.eot, ...tokenizer.encode(p.text));
  return out;
}

/** The hit rate of each cache size on the held-out test text, read with the model's tokenizer. */
export function heldOutHitRates(
  tokenizer: RwkvTokenizer,
  policy: EvictionPolicy,
  rowBytes: number,
  sizes: readonly number[] = CACHE_SIZES,
) {
  return hitRates(testStream(tokenizer), sizes, policy, rowBytes);
}
