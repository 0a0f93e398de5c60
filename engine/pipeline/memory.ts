/**
 * Memory accounting of one request: persistent bytes (the preload buffer, held across requests) and
 * transient bytes over time (compressed shards in flight, fp32 layer buffers, activations).
 */
export class MemoryTracker {
  persistent = 0;
  private readonly deltas: { t: number; bytes: number; seq: number }[] = [];

  add(t: number, bytes: number): void {
    this.deltas.push({ t, bytes, seq: this.deltas.length });
  }

  /** The transient curve (frees before allocations at equal times) and its peak. */
  summary(): { samples: { t: number; persistent: number; transient: number }[]; peakTransient: number } {
    const sorted = [...this.deltas].sort((a, b) => a.t - b.t || Math.sign(a.bytes) - Math.sign(b.bytes) || a.seq - b.seq);
    let transient = 0;
    let peakTransient = 0;
    const samples = sorted.map((d) => {
      transient += d.bytes;
      peakTransient = Math.max(peakTransient, transient);
      return { t: d.t, persistent: this.persistent, transient };
    });
    return { samples, peakTransient };
  }
}
