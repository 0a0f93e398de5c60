import { useEffect, useMemo, useRef, useState } from 'react';
import type { SweepView } from '../../../engine/workbench/api.js';
import { AccuracyChart, MemoryChart } from '../components/charts.js';
import { Empty, ErrorBox, Progress } from '../components/feedback.js';
import type { Ctx } from '../context.js';
import { describeSweep, loadSweepForm, openRow, saveSweepForm, suggestTargets, useSweeps, type SweepForm } from '../sweeps.js';

const numbers = (s: string) =>
  s
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);

/** Sweep jobs whose result was announced (and selected) once: a later visit does not announce them again. */
const announced = new Set<string>();

export function TradeoffsView({ ctx }: { ctx: Ctx }) {
  const { list, error, reload } = useSweeps(ctx);
  const [selected, setSelected] = useState<number | null>(null);
  const [sweep, setSweep] = useState<SweepView | null>(null);
  const [soc, setSoc] = useState<string | undefined>();
  const [buffer, setBuffer] = useState<number | undefined>();
  // The form outlives the view (and a restart): it is stored on every change.
  const [form, setFormState] = useState<SweepForm>(
    () =>
      loadSweepForm() ?? {
        targets: '',
        buffers: String(ctx.query.bufferKb),
        planners: ['sti-uniform', 'stdpl-32', 'stdpl-4'],
        suggestedFor: '',
      },
  );
  const setForm = (p: Partial<SweepForm>) =>
    setFormState((f) => {
      const next = { ...f, ...p };
      saveSweepForm(next);
      return next;
    });
  const { targets, buffers, planners } = form;
  const [jobId, setJobId] = useState<string | null>(null);
  // A sweep started before the view was left is still this view's: its progress shows on return.
  const job = jobId
    ? ctx.jobs[jobId]
    : Object.values(ctx.jobs)
        .filter((j) => j.kind === 'sweep')
        .sort((a, b) => a.startedAt - b.startedAt)
        .at(-1);

  // Targets follow the SoC and model until the user types their own.
  const here = `${ctx.query.soc}/${ctx.query.model}`;
  const targetsInput = useRef<HTMLInputElement>(null);
  /** Fills the targets from the SoC's range; by itself (`auto`) only while the user has not typed their own. */
  const suggest = async (auto = false) => {
    try {
      const r = await ctx.api.call('targetRange', { soc: ctx.query.soc, model: ctx.query.model, bufferKb: ctx.query.bufferKb });
      const targets = suggestTargets(r.fastestMs, r.slowestMs).join(', ');
      setFormState((f) => {
        if (auto && f.suggestedFor === null) return f; // typed while the range was on its way: theirs stays
        // Never rewrite the field under the user's cursor: a suggestion landing mid-edit would mix with their text.
        if (auto && document.activeElement === targetsInput.current) return f;
        const next = { ...f, targets, suggestedFor: here };
        saveSweepForm(next);
        return next;
      });
    } catch (e) {
      ctx.notify((e as Error).message, 'error');
    }
  };
  useEffect(() => {
    if (form.suggestedFor !== null && form.suggestedFor !== here) void suggest(true);
  }, [here]);

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
    if (job?.status === 'done' && !announced.has(job.jobId)) {
      announced.add(job.jobId);
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
      planners: known,
      ...(ctx.query.evalLimit ? { limit: ctx.query.evalLimit } : {}),
      ...(ctx.query.data ? { data: ctx.query.data } : {}),
    };
    const id = await ctx.startJob({ kind: 'sweep', sweep: spec }, `sweep of ${spec.planners.length} planners`);
    setJobId(id);
  };

  const rows = useMemo(
    () => sweep?.rows.filter((r) => r.soc === soc && (buffer === undefined || r.bufferKb === buffer)) ?? [],
    [sweep, soc, buffer],
  );
  const shownSweeps = useMemo(() => (sweep ? [sweep] : []), [sweep]);
  const ranking = planners.some((p) => ['sti', 'sti-plus', 'sti-nobuffer', 'optimal'].includes(p));
  const known = planners.filter((p) => ctx.planners.includes(p));

  return (
    <div className="view tradeoffs">
      <h1>Tradeoffs</h1>
      <section className="panel">
        <h2>
          New sweep on {ctx.query.model} · {ctx.query.soc}
        </h2>
        <div className="controls">
          <label htmlFor="sw-targets">Targets (ms)</label>
          <input
            id="sw-targets"
            ref={targetsInput}
            value={targets}
            onChange={(e) => setForm({ targets: e.target.value, suggestedFor: null })}
          />
          <button
            className="small ghost"
            onClick={() => void suggest()}
            title="Targets from the fastest plan to the whole model streamed layerwise on this SoC"
          >
            Suggest for {ctx.query.soc}
          </button>
          <label htmlFor="sw-buffers">Buffers (KB)</label>
          <input id="sw-buffers" value={buffers} onChange={(e) => setForm({ buffers: e.target.value })} />
        </div>
        <div className="checks" role="group" aria-label="planners">
          {ctx.planners.map((p) => (
            <label key={p} className="check">
              <input
                type="checkbox"
                checked={planners.includes(p)}
                onChange={(e) => setForm({ planners: e.target.checked ? [...planners, p] : planners.filter((x) => x !== p) })}
              />
              {p}
            </label>
          ))}
        </div>
        <div className="row">
          <button
            onClick={start}
            disabled={job?.status === 'running' || known.length === 0 || numbers(targets).length === 0}
            data-testid="start-sweep"
          >
            Start sweep
          </button>
          <span className="muted">
            Each point is planned, executed in virtual time and scored on{' '}
            {ctx.query.evalLimit ? `a fixed stratified sample of ${ctx.query.evalLimit}` : 'all'} dev examples
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
            <p className="muted">
              Filled markers met their deadline, hollow ones missed it; bars are 95 % intervals of the accuracy. Click a point to open its
              plan in What-if and Pipeline; click a legend entry to hide or show its series.
            </p>
          )}
          {sweep && (
            <div className="charts">
              <div data-testid="accuracy-chart">
                <h3>Accuracy against target latency</h3>
                <AccuracyChart sweeps={shownSweeps} soc={soc} bufferKb={buffer} onOpen={(p) => openRow(ctx, p.row, p.sweep)} />
              </div>
              <div data-testid="memory-chart">
                <h3>Accuracy against preload memory</h3>
                <MemoryChart sweep={sweep} rows={rows} onOpen={(p) => openRow(ctx, p.row, p.sweep)} />
              </div>
            </div>
          )}
        </section>
      )}
    </div>
  );
}
