/**
 * Trace events of a run, and their export as Chrome Trace Event JSON (opens in Perfetto's UI and
 * chrome://tracing): one thread per stage with complete ("X") events that never overlap on a thread,
 * and counter ("C") tracks for the preload buffer and total memory.
 */
import type { MemorySample } from './memory.js';
export interface TraceEvent {
  stage: 'io' | 'decompress' | 'compute' | 'stall';
  layer: number;
  /** The unit within its layer (BERT: the slice); -1 for step-level events (compute, stall). */
  slice: number;
  /** Token index, for families that run one step per layer per token (RWKV); absent for one-shot requests. */
  token?: number;
  /** The part of a step the event is, where a step has several (RWKV: 'time-mix', 'predictor', 'ffn', 'head', 'embedding'). */
  part?: string;
  bits: number;
  bytes: number;
  /** Microseconds since the request started. */
  start: number;
  end: number;
}

const THREADS: Record<TraceEvent['stage'], number> = { io: 1, decompress: 2, compute: 3, stall: 4 };

export interface ChromeTrace {
  traceEvents: Record<string, unknown>[];
  displayTimeUnit: 'ms';
  otherData: Record<string, unknown>;
}

export function chromeTrace(
  events: TraceEvent[],
  memory: { t: number; persistent: number; transient: number }[],
  meta: Record<string, unknown>,
): ChromeTrace {
  const pid = 1;
  const traceEvents: Record<string, unknown>[] = [
    { name: 'process_name', ph: 'M', pid, tid: 0, args: { name: `shardlab ${meta.planner ?? ''}`.trim() } },
  ];
  for (const [stage, tid] of Object.entries(THREADS)) {
    traceEvents.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name: stage } });
    traceEvents.push({ name: 'thread_sort_index', ph: 'M', pid, tid, args: { sort_index: tid } });
  }
  for (const e of events) {
    const at = e.token === undefined ? '' : ` T${e.token}`;
    const name = e.part
      ? `${e.stage} ${e.part} L${e.layer}${at}`
      : e.stage === 'compute' || e.stage === 'stall'
        ? `${e.stage} L${e.layer}${at}`
        : `${e.stage} L${e.layer} S${e.slice} ${e.bits}b${at}`;
    traceEvents.push({
      name,
      cat: e.stage,
      ph: 'X',
      pid,
      tid: THREADS[e.stage],
      ts: e.start,
      dur: Math.max(0, e.end - e.start),
      args: {
        layer: e.layer,
        slice: e.slice,
        bits: e.bits,
        bytes: e.bytes,
        ...(e.token === undefined ? {} : { token: e.token }),
        ...(e.part === undefined ? {} : { part: e.part }),
      },
    });
  }
  for (const m of memory) {
    traceEvents.push({ name: 'preload buffer', ph: 'C', pid, tid: 0, ts: m.t, args: { bytes: m.persistent } });
    traceEvents.push({
      name: 'memory',
      ph: 'C',
      pid,
      tid: 0,
      ts: m.t,
      args: { transient: m.transient, total: m.persistent + m.transient },
    });
  }
  return { traceEvents, displayTimeUnit: 'ms', otherData: meta };
}

/**
 * The memory curve a timeline implies where no executor measured one (a predicted plan): the preload
 * buffer throughout, plus each streamed unit's stored bytes from the end of its read to the end of its
 * decode, as the executor counts its 'in-flight' bytes. Decoded weight buffers and activations are not in
 * it (events do not carry their sizes), so it is a lower bound of the executor's curve.
 */
export function inFlightMemory(events: TraceEvent[], persistentBytes: number): MemorySample[] {
  const key = (e: TraceEvent) => `${e.layer}/${e.slice}/${e.token ?? ''}`;
  const read = new Map<string, number>();
  const deltas: { t: number; bytes: number }[] = [];
  for (const e of [...events].sort((a, b) => a.end - b.end)) {
    if (e.stage === 'io') {
      read.set(key(e), e.bytes);
      deltas.push({ t: e.end, bytes: e.bytes });
    } else if (e.stage === 'decompress' && read.has(key(e))) {
      deltas.push({ t: e.end, bytes: -read.get(key(e))! });
      read.delete(key(e));
    }
  }
  // Frees before allocations at equal times, as MemoryTracker orders them.
  deltas.sort((a, b) => a.t - b.t || Math.sign(a.bytes) - Math.sign(b.bytes));
  let transient = 0;
  const samples: MemorySample[] = [{ t: 0, persistent: persistentBytes, transient: 0 }];
  for (const d of deltas) {
    transient += d.bytes;
    samples.push({ t: d.t, persistent: persistentBytes, transient });
  }
  // The preload buffer stays resident to the end of the request.
  const end = Math.max(0, ...events.map((e) => e.end));
  if (end > samples[samples.length - 1].t) samples.push({ t: end, persistent: persistentBytes, transient });
  return samples;
}
