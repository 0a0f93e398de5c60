/**
 * Memory accounting of one request, by category: persistent bytes (held across requests: the preload
 * buffer, resident weights, a family's caches) and transient bytes over time (units in flight, decoded
 * weight buffers, activations, recurrent state).
 */
export type MemoryCategory =
  /** Units resident in the preload buffer, or weights held in memory. */
  | 'weights'
  /** Stored bytes read by IO and not yet decoded. */
  | 'in-flight'
  /** Decoded (fp32) weights of a step, from its first unit's decode to the end of its compute. */
  | 'step-buffers'
  | 'activations'
  /** Recurrent state carried between steps (RWKV). */
  | 'state'
  /** Caches a family keeps across tokens (embedding rows, head clusters). */
  | 'cache';

export interface MemorySample {
  t: number;
  persistent: number;
  transient: number;
}

export class MemoryTracker {
  private readonly persistentBy = new Map<MemoryCategory, number>();
  private readonly deltas: { t: number; bytes: number; category: MemoryCategory; seq: number }[] = [];

  /** Persistent bytes of a category (held before the request starts). */
  hold(bytes: number, category: MemoryCategory = 'weights'): void {
    this.persistentBy.set(category, (this.persistentBy.get(category) ?? 0) + bytes);
  }

  get persistent(): number {
    let n = 0;
    for (const b of this.persistentBy.values()) n += b;
    return n;
  }

  /** A transient allocation (bytes > 0) or free (bytes < 0) at modeled time t. */
  add(t: number, bytes: number, category: MemoryCategory): void {
    this.deltas.push({ t, bytes, category, seq: this.deltas.length });
  }

  /** The transient curve (frees before allocations at equal times), its peak, and each category's peak. */
  summary(): {
    samples: MemorySample[];
    peakTransient: number;
    byCategory: Partial<Record<MemoryCategory, { persistent: number; peak: number }>>;
  } {
    const sorted = [...this.deltas].sort((a, b) => a.t - b.t || Math.sign(a.bytes) - Math.sign(b.bytes) || a.seq - b.seq);
    const persistent = this.persistent;
    const now = new Map<MemoryCategory, number>();
    const byCategory: Partial<Record<MemoryCategory, { persistent: number; peak: number }>> = {};
    for (const [c, b] of this.persistentBy) byCategory[c] = { persistent: b, peak: 0 };
    let transient = 0;
    let peakTransient = 0;
    const samples = sorted.map((d) => {
      transient += d.bytes;
      peakTransient = Math.max(peakTransient, transient);
      const c = (now.get(d.category) ?? 0) + d.bytes;
      now.set(d.category, c);
      const entry = (byCategory[d.category] ??= { persistent: 0, peak: 0 });
      entry.peak = Math.max(entry.peak, c);
      return { t: d.t, persistent, transient };
    });
    return { samples, peakTransient, byCategory };
  }
}
