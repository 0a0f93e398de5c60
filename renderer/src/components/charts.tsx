/**
 * The charts of stored sweeps: accuracy against target latency, and against preload memory. One
 * encoding everywhere (the report's too): a planner's colour, marker and dash from the shared palette;
 * filled = deadline met, hollow = missed; bars = the 95 % interval of the accuracy. The legend sits
 * beside the plot and toggles series; coinciding points can be spread apart and are listed in the
 * tooltip ("also here"); clicking a point opens its plan.
 */
import { useMemo, useRef, useState } from 'react';
import { CartesianGrid, ComposedChart, ErrorBar, Line, ResponsiveContainer, Scatter, XAxis, YAxis } from 'recharts';
import { markerPath, plannerStyle, type PlannerStyle } from '../../../engine/report/palette.js';
import { wilson95 } from '../../../engine/eval/interval.js';
import type { SweepRow, SweepView } from '../../../engine/workbench/api.js';
import { fmtAcc, fmtBytes, fmtMs } from '../format.js';
import { examplesOf } from '../sweeps.js';

/** One drawn point: a sweep row with its accuracy interval, on a series (a planner, per sweep when several). */
export interface ChartPoint {
  series: string;
  row: SweepRow;
  sweep: SweepView;
  x: number;
  /** Accuracy and its 95 % interval, in %. */
  y: number;
  err: [number, number] | undefined;
  examples: number | null;
}

interface SeriesInfo {
  name: string;
  planner: string;
  style: PlannerStyle;
  points: ChartPoint[];
}

/** The other sweeps of a comparison draw their lines dotted (same planner: same colour and marker). */
const OTHER_SWEEP_DASH = '1 3';

function pointOf(series: string, row: SweepRow, sweep: SweepView, x: number): ChartPoint {
  const n = examplesOf(row, sweep);
  const y = 100 * row.accuracy;
  const ci = n ? wilson95(row.accuracy, n) : undefined;
  return { series, row, sweep, x, y, err: ci ? [y - 100 * ci.low, 100 * ci.high - y] : undefined, examples: n };
}

function seriesOf(sweeps: SweepView[], rows: (s: SweepView) => SweepRow[], x: (r: SweepRow) => number): SeriesInfo[] {
  return sweeps.flatMap((s, k) => {
    const mine = rows(s);
    return [...new Set(mine.map((r) => r.planner))].map((planner) => {
      const name = sweeps.length > 1 ? `${planner} (#${s.id})` : planner;
      const base = plannerStyle(planner);
      return {
        name,
        planner,
        style: k === 0 ? base : { ...base, dash: OTHER_SWEEP_DASH },
        points: mine
          .filter((r) => r.planner === planner)
          .map((r) => pointOf(name, r, s, x(r)))
          .sort((a, b) => a.x - b.x),
      };
    });
  });
}

/** Accuracy against target latency, one line per planner (and per sweep when several are given). */
export function AccuracyChart({
  sweeps,
  soc,
  bufferKb,
  onOpen,
}: {
  sweeps: SweepView[];
  soc?: string;
  bufferKb?: number;
  onOpen?: (p: ChartPoint) => void;
}) {
  const series = useMemo(
    () =>
      seriesOf(
        sweeps,
        (s) => s.rows.filter((r) => (soc ? r.soc === soc : true) && (bufferKb === undefined || r.bufferKb === bufferKb)),
        (r) => r.targetMs,
      ),
    [sweeps, soc, bufferKb],
  );
  return <PointsChart series={series} lines xLabel="target latency (ms)" testId="chart-accuracy" onOpen={onOpen} />;
}

/** Accuracy against preload (resident) memory, one series per planner; log scale, as the sizes span 100×. */
export function MemoryChart({ sweep, rows, onOpen }: { sweep: SweepView; rows: SweepRow[]; onOpen?: (p: ChartPoint) => void }) {
  const series = useMemo(
    () =>
      seriesOf(
        [sweep],
        () => rows,
        (r) => Math.max(1, +(r.persistentBytes / 1024).toFixed(1)),
      ),
    [sweep, rows],
  );
  return <PointsChart series={series} logX xLabel="preload memory (KB, log; 0 drawn at 1)" testId="chart-memory" onOpen={onOpen} />;
}

/** The y axis: from a little under the lowest interval to a little over the highest, never above 100 %. */
function yDomain(points: ChartPoint[]): [number, number] {
  if (points.length === 0) return [0, 100];
  const lo = Math.min(...points.map((p) => p.y - (p.err?.[0] ?? 0)));
  const hi = Math.max(...points.map((p) => p.y + (p.err?.[1] ?? 0)));
  const step = hi - lo > 20 ? 10 : hi - lo > 4 ? 5 : 1;
  return [Math.max(0, Math.floor((lo - 0.5) / step) * step), Math.min(100, Math.ceil((hi + 0.5) / step) * step)];
}

/** Ticks on the values the sweep actually has (its targets), thinned to at most 8. */
function xTicks(xs: number[]): number[] {
  const all = [...new Set(xs)].sort((a, b) => a - b);
  const every = Math.ceil(all.length / 8);
  return all.filter((_, i) => i % every === 0 || i === all.length - 1);
}

/** Same x, same accuracy: points that would be drawn on top of each other. */
const spotOf = (p: ChartPoint) => `${p.x}|${p.y.toFixed(3)}`;

function PointsChart({
  series,
  lines,
  logX,
  xLabel,
  testId,
  onOpen,
}: {
  series: SeriesInfo[];
  lines?: boolean;
  logX?: boolean;
  xLabel: string;
  testId: string;
  onOpen?: (p: ChartPoint) => void;
}) {
  const [hidden, setHidden] = useState<string[]>([]);
  const [spread, setSpread] = useState(true);
  const [hover, setHover] = useState<{ p: ChartPoint; cx: number; cy: number } | null>(null);
  // What is drawn, computed once per change of series, hidden set or spreading (see `plot` below).
  const { shown, all, spots, xs, drawn } = useMemo(() => {
    const shown = series.filter((s) => !hidden.includes(s.name));
    const all = shown.flatMap((s) => s.points);
    const spots = new Map<string, ChartPoint[]>();
    for (const p of all) spots.set(spotOf(p), [...(spots.get(spotOf(p)) ?? []), p]);
    const xs = all.map((p) => p.x);
    const [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [1, 10];
    // A deterministic offset for each of k coinciding points: 1.2 % of the axis apart (a factor on a log axis).
    const jitter = (p: ChartPoint) => {
      const group = spots.get(spotOf(p)) ?? [p];
      if (!spread || group.length < 2) return p.x;
      const k = group.indexOf(p) - (group.length - 1) / 2;
      return logX ? p.x * Math.pow(Math.max(x1 / x0, 10), 0.012 * k) : p.x + (x1 - x0 || 1) * 0.012 * k;
    };
    const drawn = new Map(shown.map((s) => [s.name, s.points.map((p) => ({ ...p, jx: jitter(p) }))]));
    return { shown, all, spots, xs, drawn };
  }, [series, hidden, spread, logX]);
  const [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [1, 10];
  const [y0, y1] = yDomain(all);

  // The latest onOpen, without making new markers when the parent passes a new function.
  const openRef = useRef(onOpen);
  openRef.current = onOpen;
  const marker = (s: SeriesInfo) =>
    function Marker(props: { cx?: number; cy?: number; payload?: ChartPoint & { jx: number } }) {
      const { cx, cy, payload: p } = props;
      if (cx === undefined || cy === undefined || !p || !Number.isFinite(cx) || !Number.isFinite(cy)) return <g />;
      const met = p.row.deadlineMet;
      return (
        <path
          d={markerPath(s.style.shape, cx, cy, 5)}
          fill={met ? s.style.color : 'var(--panel)'}
          stroke={s.style.color}
          strokeWidth={met ? 1.2 : 2}
          className={`point ${met ? 'met' : 'missed'}`}
          data-testid="chart-point"
          data-met={met ? '1' : '0'}
          data-planner={p.row.planner}
          data-target={p.row.targetMs}
          role="button"
          aria-label={`${p.series} at ${p.row.targetMs} ms: ${met ? 'deadline met' : 'deadline missed'}; open in What-if`}
          style={{ cursor: 'pointer' }}
          onMouseEnter={() => setHover({ p, cx, cy })}
          onMouseLeave={() => setHover((h) => (h?.p === p ? null : h))}
          tabIndex={0}
          onClick={() => openRef.current?.(p)}
          onKeyDown={(e) => e.key === 'Enter' && openRef.current?.(p)}
        />
      );
    };

  const markers = useMemo(() => new Map(series.map((s) => [s.name, marker(s)])), [series]);

  // The plot changes only with what is drawn, never on a hover: re-rendering it when the tooltip opened
  // replaced the points between a mouse-down and its mouse-up, and the click was lost.
  const plot = useMemo(
    () => (
      <ResponsiveContainer width="100%" height={300}>
        <ComposedChart margin={{ top: 10, right: 12, bottom: 22, left: 4 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
          <XAxis
            type="number"
            dataKey="jx"
            scale={logX ? 'log' : 'auto'}
            domain={logX ? [x0 / 1.3, x1 * 1.3] : [x0 - (x1 - x0 || 10) * 0.04, x1 + (x1 - x0 || 10) * 0.04]}
            ticks={logX ? undefined : xTicks(xs)}
            stroke="var(--fg-muted)"
            tickFormatter={(v: number) => String(Number(v.toPrecision(3)))}
            label={{ value: xLabel, position: 'insideBottom', offset: -12, fill: 'var(--fg-muted)' }}
          />
          <YAxis type="number" dataKey="y" domain={[y0, y1]} stroke="var(--fg-muted)" unit="%" width={52} />
          {shown.map((s) => {
            const data = drawn.get(s.name);
            const bars = <ErrorBar dataKey="err" direction="y" width={4} stroke={s.style.color} strokeWidth={1} strokeOpacity={0.55} />;
            return lines ? (
              <Line
                key={s.name}
                data={data}
                dataKey="y"
                name={s.name}
                stroke={s.style.color}
                strokeWidth={1.8}
                strokeDasharray={s.style.dash}
                dot={markers.get(s.name)}
                activeDot={false}
                isAnimationActive={false}
              >
                {bars}
              </Line>
            ) : (
              <Scatter
                key={s.name}
                data={data}
                dataKey="y"
                name={s.name}
                fill={s.style.color}
                shape={markers.get(s.name)}
                isAnimationActive={false}
              >
                {bars}
              </Scatter>
            );
          })}
        </ComposedChart>
      </ResponsiveContainer>
    ),
    [drawn, markers, lines, logX, xLabel, x0, x1, y0, y1],
  );

  return (
    <div className="chart" data-testid={testId}>
      <div className="chart-plot">
        {plot}
        {hover && <PointTip p={hover.p} cx={hover.cx} cy={hover.cy} also={spots.get(spotOf(hover.p)) ?? []} open={!!onOpen} />}
      </div>
      <ChartLegend series={series} hidden={hidden} setHidden={setHidden} spread={spread} setSpread={setSpread} />
    </div>
  );
}

function PointTip({ p, cx, cy, also, open }: { p: ChartPoint; cx: number; cy: number; also: ChartPoint[]; open: boolean }) {
  const r = p.row;
  const others = also.filter((o) => o.row !== p.row).map((o) => o.series);
  return (
    <div className="chart-tip" role="tooltip" style={{ left: cx + 14, top: Math.max(0, cy - 20) }}>
      <strong>{p.series}</strong>
      <div>
        target {fmtMs(r.targetMs)} · predicted {fmtMs(r.makespanMs)} ·{' '}
        <b className={r.deadlineMet ? 'good-text' : 'bad-text'}>{r.deadlineMet ? 'deadline met' : 'deadline missed'}</b>
      </div>
      <div>
        accuracy {p.examples ? fmtAcc(r.accuracy, p.examples) : `${p.y.toFixed(1)} % (example count unknown)`}
        {p.examples ? <span className="muted"> (95 %, {p.examples} examples)</span> : null}
      </div>
      <div>
        {r.layers}×{r.slices} · stall {fmtMs(r.stallMs)} · preload {fmtBytes(r.persistentBytes)} of {r.bufferKb} KB
        {r.withinBudget ? '' : ' (over the buffer)'}
      </div>
      {others.length > 0 && <div data-testid="also-here">also here: {others.join(', ')}</div>}
      {open && <div className="muted">click to open this plan in What-if</div>}
    </div>
  );
}

/** A series' swatch: its line dash and marker, as the plot draws them. */
export function Swatch({ style, met = true }: { style: PlannerStyle; met?: boolean }) {
  return (
    <svg width="26" height="14" aria-hidden="true" className="swatch">
      <line x1="1" x2="25" y1="7" y2="7" stroke={style.color} strokeWidth="1.8" strokeDasharray={style.dash} />
      <path
        d={markerPath(style.shape, 13, 7, 4.2)}
        fill={met ? style.color : 'var(--panel)'}
        stroke={style.color}
        strokeWidth={met ? 1 : 1.8}
      />
    </svg>
  );
}

function ChartLegend({
  series,
  hidden,
  setHidden,
  spread,
  setSpread,
}: {
  series: SeriesInfo[];
  hidden: string[];
  setHidden(h: string[]): void;
  spread: boolean;
  setSpread(b: boolean): void;
}) {
  const key = plannerStyle('sti');
  return (
    <div className="chart-legend" role="group" aria-label="series (click to show or hide)">
      {series.map((s) => {
        const off = hidden.includes(s.name);
        return (
          <button
            key={s.name}
            className={off ? 'series off' : 'series'}
            aria-pressed={!off}
            title={off ? `show ${s.name}` : `hide ${s.name}`}
            onClick={() => setHidden(off ? hidden.filter((h) => h !== s.name) : [...hidden, s.name])}
          >
            <Swatch style={s.style} />
            {s.name}
          </button>
        );
      })}
      <div className="legend-key muted">
        <span>
          <Swatch style={{ ...key, color: 'var(--fg-muted)' }} /> deadline met
        </span>
        <span>
          <Swatch style={{ ...key, color: 'var(--fg-muted)' }} met={false} /> missed
        </span>
        <span>bars: 95 % interval</span>
      </div>
      <label className="check">
        <input type="checkbox" checked={spread} onChange={(e) => setSpread(e.target.checked)} data-testid="spread-points" />
        spread coinciding points
      </label>
    </div>
  );
}
