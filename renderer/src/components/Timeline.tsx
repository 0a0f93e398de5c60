/**
 * A pipeline timeline: lanes for IO, decompress and compute, one bar per shard (IO, decompress) or layer
 * (compute), stalls shaded on the compute lane and totalled. Zoom with the wheel or the buttons, pan by
 * dragging, hover a bar for its shard, bits and bytes. Several timelines can share one time window.
 */
import { useEffect, useRef, useState } from 'react';
import type { TraceEvent } from '../../../engine/workbench/api.js';
import { bitColor, fmtBytes, fmtMs } from '../format.js';

export interface Window {
  start: number;
  end: number;
}

const LANES: { stage: TraceEvent['stage'][]; label: string }[] = [
  { stage: ['io'], label: 'IO' },
  { stage: ['decompress'], label: 'Decompress' },
  { stage: ['compute', 'stall'], label: 'Compute' },
];
const LANE_H = 26;
const TOP = 18;
const LEFT = 92;

function describe(e: TraceEvent): string {
  const t = `${fmtMs(e.start / 1000)} → ${fmtMs(e.end / 1000)} (${fmtMs((e.end - e.start) / 1000)})`;
  if (e.stage === 'stall') return `stall before layer ${e.layer}: compute waits for data, ${t}`;
  if (e.stage === 'compute') return `compute layer ${e.layer}: ${t}`;
  return `${e.stage} layer ${e.layer} shard ${e.slice} · ${e.bits}-bit · ${fmtBytes(e.bytes)} · ${t}`;
}

export function Timeline(props: {
  id: string;
  title: string;
  events: TraceEvent[];
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
  const drag = useRef<{ x: number; w: Window } | null>(null);

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
  const stallUs = events.filter((e) => e.stage === 'stall').reduce((a, e) => a + e.end - e.start, 0);
  const makespanUs = Math.max(0, ...events.map((e) => e.end));
  const height = TOP + LANES.length * LANE_H + 22;

  const zoom = (factor: number, at = w.start + span / 2) => {
    const s = Math.max(span * factor, 50);
    const start = Math.max(0, at - (at - w.start) * (s / span));
    props.onWindow({ start, end: start + s });
  };
  const onWheel = (ev: React.WheelEvent) => {
    const rect = (ev.currentTarget as SVGElement).getBoundingClientRect();
    const at = w.start + ((ev.clientX - rect.left - LEFT) / plotW) * span;
    zoom(ev.deltaY > 0 ? 1.25 : 0.8, at);
  };
  const ticks = Array.from({ length: 6 }, (_, i) => w.start + (i * span) / 5);

  return (
    <div className="timeline" data-testid={`timeline-${props.id}`} ref={box}>
      <div className="timeline-head">
        <strong>{props.title}</strong>
        <span className="pill">makespan {fmtMs(makespanUs / 1000)}</span>
        <span className={stallUs > 0 ? 'pill bad' : 'pill good'} data-testid={`stall-${props.id}`}>
          stall {fmtMs(stallUs / 1000)}
          {stallUs > 0 ? ` in ${events.filter((e) => e.stage === 'stall').length} wait(s)` : ' — no stalls'}
        </span>
        {props.running && <span className="pill">running…</span>}
        <span className="spacer" />
        <button className="small" title="Zoom in" onClick={() => zoom(0.5)}>
          +
        </button>
        <button className="small" title="Zoom out" onClick={() => zoom(2)}>
          −
        </button>
        <button className="small" title="Show the whole run" onClick={() => props.onWindow({ start: 0, end: props.fullEndUs })}>
          Fit
        </button>
      </div>
      <svg
        width={width}
        height={height}
        role="img"
        aria-label={`${props.title} timeline`}
        onWheel={onWheel}
        onMouseDown={(e) => (drag.current = { x: e.clientX, w })}
        onMouseUp={() => (drag.current = null)}
        onMouseLeave={() => {
          drag.current = null;
          setHover(null);
        }}
        onMouseMove={(e) => {
          if (!drag.current) return;
          const dt = ((drag.current.x - e.clientX) / plotW) * span;
          const start = Math.max(0, drag.current.w.start + dt);
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
        {ticks.map((t, i) => (
          <g key={t}>
            <line x1={x(t)} x2={x(t)} y1={TOP - 4} y2={TOP + LANES.length * LANE_H} className="tick" />
            <text x={x(t)} y={height - 6} className="tick-label" textAnchor={i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle'}>
              {fmtMs(t / 1000)}
            </text>
          </g>
        ))}
        <g clipPath={`url(#clip-${props.id})`}>
          {events.map((e, k) => {
            const lane = LANES.findIndex((l) => l.stage.includes(e.stage));
            const x0 = x(e.start);
            const x1 = x(e.end);
            if (x1 < LEFT - 1 || x0 > LEFT + plotW + 1) return null;
            const fill = e.stage === 'stall' ? `url(#hatch-${props.id})` : e.stage === 'compute' ? 'var(--compute)' : bitColor(e.bits);
            return (
              <rect
                key={k}
                data-stage={e.stage}
                x={x0}
                y={TOP + lane * LANE_H}
                width={Math.max(1, x1 - x0 - 0.5)}
                height={LANE_H - 4}
                fill={fill}
                className={`bar ${e.stage}`}
                onMouseEnter={(ev) => {
                  const r = box.current!.getBoundingClientRect();
                  setHover({ x: ev.clientX - r.left, y: TOP + lane * LANE_H + LANE_H + 20, text: describe(e) });
                }}
                onMouseLeave={() => setHover(null)}
              />
            );
          })}
          {props.targetMs !== undefined && (
            <line
              x1={x(props.targetMs * 1000)}
              x2={x(props.targetMs * 1000)}
              y1={TOP - 6}
              y2={TOP + LANES.length * LANE_H}
              className="target-line"
            />
          )}
        </g>
        {props.targetMs !== undefined && x(props.targetMs * 1000) < LEFT + plotW && x(props.targetMs * 1000) > LEFT && (
          <text x={x(props.targetMs * 1000) + 3} y={TOP - 6} className="target-label">
            target {fmtMs(props.targetMs)}
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
