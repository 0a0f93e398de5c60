import { useCallback, useEffect, useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { Ctx } from '../App.js';
import type { SweepRow, SweepSummary, SweepView } from '../../../engine/workbench/api.js';
import { SERIES } from '../format.js';
import { Empty, ErrorBox, Progress } from './common.js';

const numbers = (s: string) =>
  s
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);

/** Accuracy axes: from a little under the lowest point up to 100 %. */
const PCT: [(min: number) => number, number] = [(min) => Math.max(0, Math.floor(min - 2)), 100];

export function useSweeps(ctx: Ctx) {
  const [list, setList] = useState<SweepSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setList(await ctx.api.call('listSweeps', {}));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [ctx.api]);
  useEffect(() => void reload(), [reload]);
  return { list, error, reload };
}

export function describeSweep(s: SweepSummary): string {
  const model = s.spec.model.split('/').filter(Boolean).at(-1);
  return `#${s.id} · ${model} · ${s.spec.socs.join(', ')} · ${s.spec.planners.join(', ')} · ${s.rowCount} rows`;
}

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

function MemoryChart({ rows }: { rows: SweepRow[] }) {
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

export function TradeoffsView({ ctx }: { ctx: Ctx }) {
  const { list, error, reload } = useSweeps(ctx);
  const [selected, setSelected] = useState<number | null>(null);
  const [sweep, setSweep] = useState<SweepView | null>(null);
  const [soc, setSoc] = useState<string | undefined>();
  const [buffer, setBuffer] = useState<number | undefined>();
  const [targets, setTargets] = useState('40, 60, 80, 120, 160, 240');
  const [buffers, setBuffers] = useState(String(ctx.query.bufferKb));
  const [planners, setPlanners] = useState<string[]>(['sti-uniform', 'stdpl-32', 'stdpl-4']);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = jobId ? ctx.jobs[jobId] : undefined;

  const id = selected ?? list?.[0]?.id ?? null;
  useEffect(() => {
    if (id === null) return setSweep(null);
    ctx.api
      .call('getSweep', { id })
      .then((s) => {
        setSweep(s);
        setSoc(s.spec.socs[0]);
        setBuffer(s.spec.buffersKb[0]);
      })
      .catch((e: Error) => ctx.notify(e.message, 'error'));
  }, [id, ctx.api]);

  useEffect(() => {
    if (job?.status === 'done') {
      const r = job.result as { id: number };
      void reload().then(() => setSelected(r.id));
      ctx.notify(`Sweep #${r.id} stored`);
    }
  }, [job?.status]);

  const start = async () => {
    const spec = {
      model: ctx.query.model,
      socs: [ctx.query.soc],
      targetsMs: numbers(targets),
      buffersKb: numbers(buffers),
      planners,
      ...(ctx.query.evalLimit ? { limit: ctx.query.evalLimit } : {}),
    };
    const id = await ctx.startJob({ kind: 'sweep', sweep: spec }, `sweep of ${spec.planners.length} planners`);
    setJobId(id);
  };

  const rows = useMemo(
    () => sweep?.rows.filter((r) => r.soc === soc && (buffer === undefined || r.bufferKb === buffer)) ?? [],
    [sweep, soc, buffer],
  );
  const ranking = planners.some((p) => ['sti', 'sti-plus', 'sti-nobuffer', 'optimal'].includes(p));

  return (
    <div className="view tradeoffs">
      <h1>Tradeoffs</h1>
      <section className="panel">
        <h2>
          New sweep on {ctx.query.model} · {ctx.query.soc}
        </h2>
        <div className="controls">
          <label htmlFor="sw-targets">Targets (ms)</label>
          <input id="sw-targets" value={targets} onChange={(e) => setTargets(e.target.value)} />
          <label htmlFor="sw-buffers">Buffers (KB)</label>
          <input id="sw-buffers" value={buffers} onChange={(e) => setBuffers(e.target.value)} />
        </div>
        <div className="checks" role="group" aria-label="planners">
          {ctx.planners.map((p) => (
            <label key={p} className="check">
              <input
                type="checkbox"
                checked={planners.includes(p)}
                onChange={(e) => setPlanners(e.target.checked ? [...planners, p] : planners.filter((x) => x !== p))}
              />
              {p}
            </label>
          ))}
        </div>
        <div className="row">
          <button onClick={start} disabled={job?.status === 'running' || planners.length === 0} data-testid="start-sweep">
            Start sweep
          </button>
          <span className="muted">
            Each point is planned, executed in virtual time and scored on {ctx.query.evalLimit ? `the first ${ctx.query.evalLimit}` : 'all'}{' '}
            dev examples
            {ranking ? '; sti needs the importance profile and runs it first if missing' : ''}.
          </span>
        </div>
        {job && <Progress job={job} onCancel={() => ctx.cancelJob(job.jobId)} />}
      </section>
      {error && <ErrorBox text={error} />}
      {list && list.length === 0 && (
        <Empty title="No sweeps stored yet">Start one above: a few targets and planners take under a minute on 20 examples.</Empty>
      )}
      {list && list.length > 0 && (
        <section className="panel">
          <div className="controls">
            <label htmlFor="sweep-pick">Sweep</label>
            <select id="sweep-pick" value={id ?? ''} onChange={(e) => setSelected(Number(e.target.value))}>
              {list.map((s) => (
                <option key={s.id} value={s.id}>
                  {describeSweep(s)}
                </option>
              ))}
            </select>
            {sweep && sweep.spec.socs.length > 1 && (
              <select value={soc} onChange={(e) => setSoc(e.target.value)} aria-label="SoC">
                {sweep.spec.socs.map((s) => (
                  <option key={s}>{s}</option>
                ))}
              </select>
            )}
            {sweep && sweep.spec.buffersKb.length > 1 && (
              <select value={buffer} onChange={(e) => setBuffer(Number(e.target.value))} aria-label="buffer">
                {sweep.spec.buffersKb.map((b) => (
                  <option key={b} value={b}>
                    {b} KB
                  </option>
                ))}
              </select>
            )}
          </div>
          {sweep && (
            <div className="two">
              <div data-testid="accuracy-chart">
                <h3>Accuracy against target latency</h3>
                <AccuracyChart sweeps={[sweep]} soc={soc} bufferKb={buffer} />
              </div>
              <div data-testid="memory-chart">
                <h3>Accuracy against preload memory</h3>
                <MemoryChart rows={rows} />
              </div>
            </div>
          )}
        </section>
      )}
    </div>
  );
}
