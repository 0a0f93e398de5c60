/**
 * Small inline-SVG charts for the self-contained HTML report (no scripts, no network): a line/scatter
 * chart with axes and a legend, and a pipeline timeline with one lane per stage.
 */
import type { TraceEvent } from '../pipeline/trace.js';
import { markerPath, plannerStyle, type PlannerStyle } from './palette.js';

export interface Point {
  x: number;
  y: number;
  /** Error bar (e.g. the 95 % interval of an accuracy), in y units. */
  yLow?: number;
  yHigh?: number;
  /** Drawn hollow (a missed deadline). */
  hollow?: boolean;
  title?: string;
}

export interface Series {
  name: string;
  points: Point[];
  /** Colour, marker and dash; default: the palette's style of the series' name as a planner. */
  style?: PlannerStyle;
  /** Connect the points (false: scatter only). */
  line?: boolean;
  dashed?: boolean;
}

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function ticks(min: number, max: number, n = 5): number[] {
  if (max <= min) return [min];
  const raw = (max - min) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toExponential(0) : String(Number(v.toPrecision(4))));

export function chart(o: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  /** A log10 y axis (values above 0; e.g. tokens/s across orders of magnitude). */
  logY?: boolean;
  /** Upper bound of the y axis (accuracy: 100). */
  yMax?: number;
  width?: number;
  height?: number;
  /** The line under the legend (default: what filled and hollow markers mean for deadlines). */
  note?: string;
}): string {
  const W = o.width ?? 820;
  const H = o.height ?? Math.max(320, 64 + 15 * o.series.length);
  const m = { l: 60, r: 220, t: 28, b: 44 };
  const pts = o.series.flatMap((s) => s.points);
  if (pts.length === 0) return `<p class="empty">${esc(o.title)}: no points.</p>`;
  const fx = (x: number) => (o.logX ? Math.log10(Math.max(x, 1)) : x);
  let [x0, x1] = [Math.min(...pts.map((p) => fx(p.x))), Math.max(...pts.map((p) => fx(p.x)))];
  const fy = (y: number) => (o.logY ? Math.log10(Math.max(y, 1e-9)) : y);
  let [y0, y1] = [Math.min(...pts.map((p) => fy(p.yLow ?? p.y))), Math.max(...pts.map((p) => fy(p.yHigh ?? p.y)))];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  // Room at both ends, so markers (spread ones too) stay off the y axis and the legend.
  const xpad = (x1 - x0) * 0.04;
  [x0, x1] = [x0 - xpad, x1 + xpad];
  const pad = (y1 - y0) * 0.08 || 1;
  [y0, y1] = [y0 - pad, Math.min(y1 + pad, o.yMax === undefined ? Infinity : fy(o.yMax))];
  const sx = (x: number) => m.l + ((fx(x) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((fy(y) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [`<text x="${m.l}" y="18" class="ct">${esc(o.title)}</text>`];
  const xt = o.logX ? ticks(x0, x1).map((t) => 10 ** t) : ticks(x0, x1);
  for (const t of xt)
    parts.push(
      `<line x1="${sx(t)}" x2="${sx(t)}" y1="${m.t}" y2="${H - m.b}" class="grid"/><text x="${sx(t)}" y="${H - m.b + 14}" class="tick" text-anchor="middle">${fmt(t)}</text>`,
    );
  for (const t of o.logY ? ticks(y0, y1).map((e) => 10 ** e) : ticks(y0, y1))
    parts.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${sy(t)}" y2="${sy(t)}" class="grid"/><text x="${m.l - 6}" y="${sy(t) + 4}" class="tick" text-anchor="end">${fmt(t)}</text>`,
    );
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" class="axis" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" class="axis" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  // Coinciding points of different series (identical plans) are spread 6 px apart, so each one shows.
  const spots = new Map<string, number[]>();
  o.series.forEach((s, i) => {
    for (const p of s.points) {
      const key = `${Math.round(sx(p.x))},${Math.round(sy(p.y))}`;
      if (!spots.get(key)?.includes(i)) spots.set(key, [...(spots.get(key) ?? []), i]);
    }
  });
  const spread = (p: Point, i: number) => {
    const group = spots.get(`${Math.round(sx(p.x))},${Math.round(sy(p.y))}`) ?? [i];
    return sx(p.x) + 6 * (group.indexOf(i) - (group.length - 1) / 2);
  };
  o.series.forEach((s, i) => {
    const st = s.style ?? plannerStyle(s.name);
    const c = st.color;
    const dash = s.dashed ? '5 3' : st.dash;
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    if (s.line !== false && sorted.length > 1)
      parts.push(
        `<polyline fill="none" stroke="${c}" stroke-width="1.6"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${sorted.map((p) => `${spread(p, i).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const p of sorted) {
      const [px, py] = [spread(p, i), sy(p.y)];
      if (p.yLow !== undefined && p.yHigh !== undefined)
        parts.push(
          `<path d="M${px.toFixed(1)},${sy(p.yLow).toFixed(1)}V${sy(p.yHigh).toFixed(1)}M${(px - 3).toFixed(1)},${sy(p.yLow).toFixed(1)}h6M${(px - 3).toFixed(1)},${sy(p.yHigh).toFixed(1)}h6" stroke="${c}" stroke-width="1" opacity="0.6" fill="none"/>`,
        );
      parts.push(
        `<path d="${markerPath(st.shape, px, py, 4)}" fill="${p.hollow ? 'white' : c}" stroke="${c}" stroke-width="1.6" class="${p.hollow ? 'missed' : 'met'}"><title>${esc(p.title ?? `${s.name}: ${fmt(p.x)}, ${fmt(p.y)}`)}</title></path>`,
      );
    }
    const ly = m.t + 4 + i * 15;
    parts.push(
      `<line x1="${W - m.r + 8}" x2="${W - m.r + 28}" y1="${ly + 2}" y2="${ly + 2}" stroke="${c}" stroke-width="1.6"${dash ? ` stroke-dasharray="${dash}"` : ''}/><path d="${markerPath(st.shape, W - m.r + 18, ly + 2, 3.5)}" fill="${c}" stroke="${c}"/><text x="${W - m.r + 34}" y="${ly + 6}" class="tick">${esc(s.name)}</text>`,
    );
  });
  parts.push(
    `<text x="${W - m.r + 8}" y="${m.t + 4 + o.series.length * 15 + 14}" class="tick">${esc(o.note ?? 'filled: deadline met · hollow: missed')}</text>`,
  );
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}">${parts.join('')}</svg>`;
}

const LANES: TraceEvent['stage'][] = ['io', 'decompress', 'compute', 'stall'];
const LANE_COLOR: Record<TraceEvent['stage'], string> = { io: '#1f77b4', decompress: '#ff7f0e', compute: '#2ca02c', stall: '#d62728' };

/** One pipeline timeline: a lane per stage, a marker at the target latency. */
export function timeline(o: { title: string; events: TraceEvent[]; targetMs: number; spanMs: number; width?: number }): string {
  const W = o.width ?? 900;
  const lane = 18;
  const m = { l: 80, r: 16, t: 22, b: 22 };
  const H = m.t + LANES.length * (lane + 4) + m.b;
  const sx = (us: number) => m.l + (us / 1000 / o.spanMs) * (W - m.l - m.r);
  const parts = [`<text x="${m.l}" y="15" class="ct">${esc(o.title)}</text>`];
  LANES.forEach((stage, i) => {
    const y = m.t + i * (lane + 4);
    parts.push(`<text x="${m.l - 6}" y="${y + 13}" class="tick" text-anchor="end">${stage}</text>`);
    for (const e of o.events.filter((x) => x.stage === stage)) {
      const label = `${stage} L${e.layer}${e.slice >= 0 ? ` S${e.slice}` : ''}${e.bits ? ` ${e.bits}-bit` : ''}${e.bytes ? ` ${(e.bytes / 1024).toFixed(1)} KB` : ''}: ${(e.start / 1000).toFixed(2)}–${(e.end / 1000).toFixed(2)} ms`;
      parts.push(
        `<rect x="${sx(e.start).toFixed(2)}" y="${y}" width="${Math.max(0.5, sx(e.end) - sx(e.start)).toFixed(2)}" height="${lane}" fill="${LANE_COLOR[stage]}" stroke="white" stroke-width="0.4"><title>${esc(label)}</title></rect>`,
      );
    }
  });
  const tx = sx(o.targetMs * 1000);
  parts.push(
    `<line x1="${tx}" x2="${tx}" y1="${m.t - 4}" y2="${H - m.b + 2}" stroke="#444" stroke-dasharray="4 3"/><text x="${tx + 3}" y="${H - 6}" class="tick">target ${o.targetMs} ms</text>`,
  );
  for (const t of ticks(0, o.spanMs))
    parts.push(`<text x="${sx(t * 1000)}" y="${H - 6}" class="tick" text-anchor="middle">${fmt(t)}</text>`);
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}">${parts.join('')}</svg>`;
}
