import { useEffect, useMemo, useState } from 'react';
import type { SweepView } from '../../../engine/workbench/api.js';
import { AccuracyChart, MemoryChart } from '../components/charts.js';
import { Empty, ErrorBox, Progress } from '../components/feedback.js';
import type { Ctx } from '../context.js';
import { describeSweep, useSweeps } from '../sweeps.js';

const numbers = (s: string) =>
  s
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);

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
