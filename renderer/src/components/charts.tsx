/** The recharts charts of stored sweeps: accuracy against target latency, and against preload memory. */
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { SweepRow, SweepView } from '../../../engine/workbench/api.js';
import { SERIES } from '../format.js';

/** Accuracy axes: from a little under the lowest point up to 100 %. */
const PCT: [(min: number) => number, number] = [(min) => Math.max(0, Math.floor(min - 2)), 100];

/** Accuracy against target latency, one line per planner (and per sweep when several are given). */
export function AccuracyChart({ sweeps, soc, bufferKb }: { sweeps: SweepView[]; soc?: string; bufferKb?: number }) {
  const series = sweeps.flatMap((s) => {
    const rows = s.rows.filter((r) => (soc ? r.soc === soc : true) && (bufferKb === undefined || r.bufferKb === bufferKb));
    const planners = [...new Set(rows.map((r) => r.planner))];
    return planners.map((p) => ({
      name: sweeps.length > 1 ? `${p} (#${s.id})` : p,
      data: rows
        .filter((r) => r.planner === p)
        .sort((a, b) => a.targetMs - b.targetMs)
        .map((r) => ({ targetMs: r.targetMs, accuracy: +(100 * r.accuracy).toFixed(2), met: r.deadlineMet })),
    }));
  });
  return (
    <ResponsiveContainer width="100%" height={280}>
      <LineChart margin={{ top: 8, right: 16, bottom: 18, left: 4 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
        <XAxis
          type="number"
          dataKey="targetMs"
          domain={['dataMin', 'dataMax']}
          stroke="var(--fg-muted)"
          label={{ value: 'target latency (ms)', position: 'insideBottom', offset: -10, fill: 'var(--fg-muted)' }}
        />
        <YAxis dataKey="accuracy" stroke="var(--fg-muted)" unit="%" domain={PCT} />
        <Tooltip contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} />
        <Legend verticalAlign="top" />
        {series.map((s, i) => (
          <Line
            key={s.name}
            data={s.data}
            dataKey="accuracy"
            name={s.name}
            stroke={SERIES[i % SERIES.length]}
            strokeWidth={2}
            dot
            isAnimationActive={false}
          />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}

/** Accuracy against preload memory, one series per planner. */
export function MemoryChart({ rows }: { rows: SweepRow[] }) {
  const planners = [...new Set(rows.map((r) => r.planner))];
  return (
    <ResponsiveContainer width="100%" height={280}>
      <ScatterChart margin={{ top: 8, right: 16, bottom: 18, left: 4 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
        <XAxis
          type="number"
          dataKey="kb"
          name="preload memory"
          unit=" KB"
          stroke="var(--fg-muted)"
          label={{ value: 'preload memory (KB)', position: 'insideBottom', offset: -10, fill: 'var(--fg-muted)' }}
        />
        <YAxis type="number" dataKey="accuracy" name="accuracy" unit="%" stroke="var(--fg-muted)" domain={PCT} />
        <Tooltip contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} />
        <Legend verticalAlign="top" />
        {planners.map((p, i) => (
          <Scatter
            key={p}
            name={p}
            fill={SERIES[i % SERIES.length]}
            isAnimationActive={false}
            data={rows
              .filter((r) => r.planner === p)
              .map((r) => ({ kb: +(r.persistentBytes / 1024).toFixed(1), accuracy: +(100 * r.accuracy).toFixed(2) }))}
          />
        ))}
      </ScatterChart>
    </ResponsiveContainer>
  );
}
