/**
 * A pipeline timeline: lanes for IO, decompress and compute, one bar per shard (IO, decompress) or layer
 * (compute), each run of a layer labelled, stalls shaded on the compute lane (adjacent waits merged into
 * one span) and totalled, and a memory lane where the curve is known. Round ticks. Navigation as in
 * Perfetto: W/S zoom, A/D pan, 0 resets; the wheel zooms, dragging pans, shift-drag measures a range.
 * Hover a bar for its shard, bits and bytes. Several timelines can share one time window.
 */
import { useEffect, useRef, useState } from 'react';
import type { MemorySample, TraceEvent } from '../../../engine/workbench/api.js';
import { bitColor, fmtBytes, fmtMs } from '../format.js';
import { layerRuns, memorySteps, mergeStalls, niceTicks, tickLabel, type Stall } from './timeline-math.js';

export interface Window {
  start: number;
  end: number;
}

const LANES: { stage: TraceEvent['stage']; label: string }[] = [
  { stage: 'io', label: 'IO' },
  { stage: 'decompress', label: 'Decompress' },
  { stage: 'compute', label: 'Compute' },
];
const LANE_H = 26;
const MEM_H = 34;
const TOP = 18;
const LEFT = 92;
/** Narrowest span, in pixels, a layer label is written in. */
const LABEL_MIN_PX = 18;

function describe(e: TraceEvent): string {
  const t = `${fmtMs(e.start / 1000)} → ${fmtMs(e.end / 1000)} (${fmtMs((e.end - e.start) / 1000)})`;
  // A step with parts (RWKV: time-mix, predictor, ffn, head, embedding), one per token.
  if (e.part !== undefined) {
    const where = `${e.layer >= 0 ? `layer ${e.layer}` : 'model'}${e.token === undefined ? '' : ` · token ${e.token}`}`;
    return `${e.stage} ${e.part} · ${where}${e.bytes ? ` · ${fmtBytes(e.bytes)}` : ''} · ${t}`;
  }
  if (e.stage === 'compute') return `compute layer ${e.layer}: ${t}`;
  return `${e.stage} layer ${e.layer} shard ${e.slice} · ${e.bits}-bit · ${fmtBytes(e.bytes)} · ${t}`;
}

function describeStall(s: Stall): string {
  const layers = s.layers[0] === s.layers[1] ? `layer ${s.layers[0]}` : `layers ${s.layers[0]}–${s.layers[1]}`;
  const t = `${fmtMs(s.start / 1000)} → ${fmtMs(s.end / 1000)}, ${fmtMs(s.waitUs / 1000)} waiting`;
  const parts = s.waits > 1 ? ` (${s.waits} waits, one per shard it waited for, with their decodes between)` : '';
  return `stall before ${layers}: compute waits for data, ${t}${parts}`;
}

export function Timeline(props: {
  id: string;
  title: string;
  events: TraceEvent[];
  /** Memory over time (the preload buffer plus what is in flight); no memory lane without it. */
  memory?: MemorySample[];
  window: Window;
  onWindow(w: Window): void;
  fullEndUs: number;
  targetMs?: number;
  running?: boolean;
}) {
  const { events, window: w } = props;
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(900);
  const [hover, setHover] = useState<{ x: number; y: number; text: string } | null>(null);
  const [measure, setMeasure] = useState<{ a: number; b: number } | null>(null);
  const drag = useRef<{ x: number; w: Window; measureFrom?: number } | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(300, el.clientWidth)));
    ro.observe(el);
    setWidth(Math.max(300, el.clientWidth));
    return () => ro.disconnect();
  }, []);

  const plotW = width - LEFT - 12;
  const span = Math.max(1, w.end - w.start);
  const x = (t: number) => LEFT + ((t - w.start) / span) * plotW;
  const timeAt = (clientX: number) => {
    const rect = box.current!.querySelector('svg')!.getBoundingClientRect();
    return w.start + ((clientX - rect.left - LEFT) / plotW) * span;
  };
  const stalls = mergeStalls(events);
  const stallUs = stalls.reduce((a, s) => a + s.waitUs, 0);
  const makespanUs = Math.max(0, ...events.map((e) => e.end));
  const memory = props.memory && props.memory.length > 0 ? memorySteps(props.memory) : undefined;
  const lanesH = LANES.length * LANE_H;
  const memTop = TOP + lanesH;
  const height = TOP + lanesH + (memory ? MEM_H : 0) + 22;

  const zoom = (factor: number, at = w.start + span / 2) => {
    const s = Math.max(span * factor, 50);
    const start = Math.max(0, at - (at - w.start) * (s / span));
    props.onWindow({ start, end: start + s });
  };
  const pan = (fraction: number) => {
    const start = Math.max(0, w.start + fraction * span);
    props.onWindow({ start, end: start + span });
  };
  const reset = () => props.onWindow({ start: 0, end: props.fullEndUs });
  const onKey = (ev: React.KeyboardEvent) => {
    const k = ev.key.toLowerCase();
    if (k === 'w') zoom(0.8);
    else if (k === 's') zoom(1.25);
    else if (k === 'a') pan(-0.2);
    else if (k === 'd') pan(0.2);
    else if (k === '0') reset();
    else if (k === 'escape') setMeasure(null);
    else return;
    ev.preventDefault();
  };
  const onWheel = (ev: React.WheelEvent) => zoom(ev.deltaY > 0 ? 1.25 : 0.8, timeAt(ev.clientX));
  const { step, ticks } = niceTicks(w.start, w.end, Math.max(3, Math.round(plotW / 110)));

  const laneEvents = (stage: TraceEvent['stage']) => events.filter((e) => e.stage === stage);
  const visible = (a: number, b: number) => !(x(b) < LEFT - 1 || x(a) > LEFT + plotW + 1);
  const targetX = props.targetMs !== undefined ? x(props.targetMs * 1000) : undefined;
  // The target's label sits right of its line, or left of it where it would run past the edge.
  const targetLabelLeft = targetX !== undefined && targetX + 80 > width;
  const m = measure && { from: Math.min(measure.a, measure.b), to: Math.max(measure.a, measure.b) };

  return (
    <div
      className="timeline"
      data-testid={`timeline-${props.id}`}
      ref={box}
      tabIndex={0}
      onKeyDown={onKey}
      aria-label={`${props.title} timeline: W/S zoom, A/D pan, 0 resets, shift-drag measures`}
    >
      <div className="timeline-head">
        <strong>{props.title}</strong>
        <span className="pill">makespan {fmtMs(makespanUs / 1000)}</span>
        <span className={stallUs > 0 ? 'pill bad' : 'pill good'} data-testid={`stall-${props.id}`}>
          stall {fmtMs(stallUs / 1000)}
          {stallUs > 0 ? ` in ${stalls.length} wait${stalls.length === 1 ? '' : 's'}` : ' — no stalls'}
        </span>
        {memory && (
          <span className="pill" data-testid={`memory-peak-${props.id}`}>
            memory peak {fmtBytes(memory.peak)}
          </span>
        )}
        {m && (
          <span className="pill measure" data-testid={`measure-${props.id}`} title="Esc clears">
            measured {fmtMs((m.to - m.from) / 1000)} ({fmtMs(m.from / 1000)} → {fmtMs(m.to / 1000)})
          </span>
        )}
        {props.running && <span className="pill">running…</span>}
        <span className="spacer" />
        <button className="small" title="Zoom in (W)" onClick={() => zoom(0.5)}>
          +
        </button>
        <button className="small" title="Zoom out (S)" onClick={() => zoom(2)}>
          −
        </button>
        <button
          className="small"
          title="Show the whole run (0). Click a timeline, then W/S zoom, A/D pan; shift-drag measures"
          onClick={reset}
        >
          Fit
        </button>
      </div>
      <svg
        width={width}
        height={height}
        role="img"
        aria-label={`${props.title} timeline`}
        onWheel={onWheel}
        onMouseDown={(e) => {
          box.current?.focus();
          if (e.shiftKey) {
            const t = timeAt(e.clientX);
            drag.current = { x: e.clientX, w, measureFrom: t };
            setMeasure({ a: t, b: t });
          } else drag.current = { x: e.clientX, w };
        }}
        onMouseUp={() => (drag.current = null)}
        onMouseLeave={() => {
          drag.current = null;
          setHover(null);
        }}
        onMouseMove={(e) => {
          const d = drag.current;
          if (!d) return;
          if (d.measureFrom !== undefined) return setMeasure({ a: d.measureFrom, b: timeAt(e.clientX) });
          const dt = ((d.x - e.clientX) / plotW) * span;
          const start = Math.max(0, d.w.start + dt);
          props.onWindow({ start, end: start + span });
        }}
      >
        <defs>
          <pattern id={`hatch-${props.id}`} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" fill="var(--stall-bg)" />
            <line x1="0" y1="0" x2="0" y2="6" stroke="var(--stall)" strokeWidth="3" />
          </pattern>
          <clipPath id={`clip-${props.id}`}>
            <rect x={LEFT} y={0} width={plotW} height={height} />
          </clipPath>
        </defs>
        {LANES.map((l, i) => (
          <g key={l.label}>
            <rect x={LEFT} y={TOP + i * LANE_H} width={plotW} height={LANE_H - 4} className="lane-bg" />
            <text x={8} y={TOP + i * LANE_H + 15} className="lane-label">
              {l.label}
            </text>
          </g>
        ))}
        {memory && (
          <g data-testid={`memory-lane-${props.id}`}>
            <rect x={LEFT} y={memTop} width={plotW} height={MEM_H - 4} className="lane-bg" />
            <text x={8} y={memTop + 13} className="lane-label">
              Memory
            </text>
            <text x={8} y={memTop + 26} className="lane-label lane-note">
              {fmtBytes(memory.peak)}
            </text>
          </g>
        )}
        {ticks.map((t, i) => (
          <g key={t}>
            <line x1={x(t)} x2={x(t)} y1={TOP - 4} y2={height - 20} className="tick" />
            <text
              x={x(t)}
              y={height - 6}
              className="tick-label"
              textAnchor={x(t) < LEFT + 20 ? 'start' : i === ticks.length - 1 && x(t) > LEFT + plotW - 20 ? 'end' : 'middle'}
            >
              {tickLabel(t, step)}
            </text>
          </g>
        ))}
        <g clipPath={`url(#clip-${props.id})`}>
          {events.map((e, k) => {
            if (e.stage === 'stall' || !visible(e.start, e.end)) return null;
            const lane = LANES.findIndex((l) => l.stage === e.stage);
            const x0 = x(e.start);
            return (
              <rect
                key={k}
                data-stage={e.stage}
                x={x0}
                y={TOP + lane * LANE_H}
                width={Math.max(1, x(e.end) - x0 - 0.5)}
                height={LANE_H - 4}
                fill={e.stage === 'compute' ? 'var(--compute)' : bitColor(e.bits)}
                className={`bar ${e.stage}`}
                onMouseEnter={(ev) => {
                  const r = box.current!.getBoundingClientRect();
                  setHover({ x: ev.clientX - r.left, y: TOP + lane * LANE_H + LANE_H + 20, text: describe(e) });
                }}
                onMouseLeave={() => setHover(null)}
              />
            );
          })}
          {stalls.map((s, k) =>
            visible(s.start, s.end) ? (
              <rect
                key={`stall-${k}`}
                data-stage="stall"
                x={x(s.start)}
                y={TOP + 2 * LANE_H}
                width={Math.max(1, x(s.end) - x(s.start) - 0.5)}
                height={LANE_H - 4}
                fill={`url(#hatch-${props.id})`}
                className="bar stall"
                onMouseEnter={(ev) => {
                  const r = box.current!.getBoundingClientRect();
                  setHover({ x: ev.clientX - r.left, y: TOP + 3 * LANE_H + 20, text: describeStall(s) });
                }}
                onMouseLeave={() => setHover(null)}
              />
            ) : null,
          )}
          {LANES.flatMap((l, i) =>
            layerRuns(laneEvents(l.stage))
              .filter((r) => visible(r.start, r.end))
              .map((r) => {
                const x0 = Math.max(LEFT, x(r.start));
                const x1 = Math.min(LEFT + plotW, x(r.end));
                if (x1 - x0 < LABEL_MIN_PX) return null;
                return (
                  <text key={`${l.stage}-${r.layer}-${r.start}`} x={(x0 + x1) / 2} y={TOP + i * LANE_H + 15} className="layer-label">
                    {r.label}
                  </text>
                );
              }),
          )}
          {memory && (
            <path
              className="memory-line"
              d={memory.points
                .map(
                  ([t, b], k) =>
                    `${k ? 'L' : 'M'}${x(t).toFixed(1)},${(memTop + MEM_H - 5 - (b / (memory.peak || 1)) * (MEM_H - 8)).toFixed(1)}`,
                )
                .join(' ')}
            />
          )}
          {m && (
            <rect x={x(m.from)} y={TOP - 4} width={Math.max(1, x(m.to) - x(m.from))} height={height - TOP - 16} className="measure-range" />
          )}
          {targetX !== undefined && <line x1={targetX} x2={targetX} y1={TOP - 6} y2={height - 20} className="target-line" />}
        </g>
        {targetX !== undefined && targetX <= LEFT + plotW && targetX >= LEFT && (
          <text
            x={targetLabelLeft ? targetX - 3 : targetX + 3}
            y={TOP - 6}
            textAnchor={targetLabelLeft ? 'end' : 'start'}
            className="target-label"
            data-testid={`target-label-${props.id}`}
          >
            target {fmtMs(props.targetMs!)}
          </text>
        )}
      </svg>
      {hover && (
        <div className="tooltip" role="tooltip" style={{ left: Math.min(hover.x, width - 320), top: hover.y }}>
          {hover.text}
        </div>
      )}
    </div>
  );
}
