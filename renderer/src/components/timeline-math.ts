/** The arithmetic behind a timeline, apart from drawing: round ticks, merged waits, layer runs and the memory curve's extent. */
import type { MemorySample, TraceEvent } from '../../../engine/workbench/api.js';

/** Tick values over [start, end] at a round step (1, 2 or 5 × 10^k of the unit), about `count` of them. */
export function niceTicks(start: number, end: number, count = 6): { step: number; ticks: number[] } {
  const span = end - start;
  if (!(span > 0)) return { step: 1, ticks: [start] };
  const rough = span / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= rough) ?? 10) * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(start / step) * step; t <= end + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return { step, ticks };
}

/** A tick's label in ms with just the decimals its step needs (20 ms, 2.5 ms, 0.05 ms). */
export function tickLabel(us: number, stepUs: number): string {
  const decimals = Math.max(0, Math.ceil(-Math.log10(stepUs / 1000) - 1e-9));
  return `${(us / 1000).toFixed(Math.min(decimals, 6))} ms`;
}

export interface Stall {
  /** From the first wait's start to the last one's end. */
  start: number;
  end: number;
  /** Time spent waiting within it (the decodes the CPU runs between waits are not waiting). */
  waitUs: number;
  /** First and last layer compute waited before. */
  layers: [number, number];
  /** Waits merged into it (the executor records one per unit it waited for). */
  waits: number;
}

/**
 * Stall events merged into one span per stretch of compute waiting: waits follow each other with no
 * compute between them (only the decodes of the units waited for), as before the first layer.
 */
export function mergeStalls(events: TraceEvent[]): Stall[] {
  const computeStarts = events
    .filter((e) => e.stage === 'compute')
    .map((e) => e.start)
    .sort((a, b) => a - b);
  const computeBetween = (a: number, b: number) => computeStarts.some((t) => t >= a && t < b);
  const out: Stall[] = [];
  for (const e of events.filter((x) => x.stage === 'stall').sort((a, b) => a.start - b.start)) {
    const last = out[out.length - 1];
    if (last && !computeBetween(last.end, e.start)) {
      last.end = Math.max(last.end, e.end);
      last.waitUs += e.end - e.start;
      last.layers[1] = Math.max(last.layers[1], e.layer);
      last.waits++;
    } else out.push({ start: e.start, end: e.end, waitUs: e.end - e.start, layers: [e.layer, e.layer], waits: 1 });
  }
  return out;
}

/** Consecutive events of one lane that belong to the same layer, as one span to label ("L3"; a step's head or embedding by name). */
export function layerRuns(events: TraceEvent[]): { layer: number; start: number; end: number; label: string }[] {
  const runs: { layer: number; start: number; end: number; label: string }[] = [];
  const labelOf = (e: TraceEvent) => (e.part === 'head' || e.part === 'head-l1' ? 'head' : e.part === 'embedding' ? 'emb' : `L${e.layer}`);
  for (const e of [...events].sort((a, b) => a.start - b.start)) {
    const last = runs[runs.length - 1];
    const label = labelOf(e);
    if (last && last.layer === e.layer && last.label === label) last.end = Math.max(last.end, e.end);
    else runs.push({ layer: e.layer, start: e.start, end: e.end, label });
  }
  return runs;
}

/** The memory curve as a step path's points (time, total bytes), and its peak. */
export function memorySteps(samples: MemorySample[]): { points: [number, number][]; peak: number } {
  const points: [number, number][] = [];
  let peak = 0;
  for (const s of samples) {
    const total = s.persistent + s.transient;
    if (points.length) points.push([s.t, points[points.length - 1][1]]);
    points.push([s.t, total]);
    peak = Math.max(peak, total);
  }
  return { points, peak };
}
