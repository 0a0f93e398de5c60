import { useEffect, useState } from 'react';
import type { PlanView } from '../../../engine/workbench/api.js';
import { Current, Empty, ErrorBox } from '../components/feedback.js';
import { ImportanceMissing } from '../components/ImportanceMissing.js';
import { PlannerSelect } from '../components/PlannerSelect.js';
import { Timeline, type Window } from '../components/Timeline.js';
import type { Ctx } from '../context.js';
import { download } from '../download.js';
import { fmtMs } from '../format.js';
import { notCurrent, planQuery } from '../state.js';

export function PipelineView({ ctx }: { ctx: Ctx }) {
  const { query: q, plan } = ctx;
  const [other, setOther] = useState<PlanView | null>(null);
  const [otherError, setOtherError] = useState<string | null>(null);
  const [win, setWin] = useState<Window | null>(null);

  useEffect(() => {
    let live = true;
    ctx.api
      .call('plan', { ...planQuery(q), planner: q.comparePlanner })
      .then((p) => live && (setOther(p), setOtherError(null)))
      .catch((e: Error) => live && setOtherError(e.message));
    return () => {
      live = false;
    };
  }, [ctx.api, q.soc, q.model, q.comparePlanner, q.targetMs, q.bufferKb, q.evalLimit, q.data]);

  const end = Math.max(plan?.makespanMs ?? 0, other?.makespanMs ?? 0, q.targetMs) * 1000 * 1.02;
  const w = win ?? { start: 0, end };
  useEffect(() => setWin(null), [end]);
  /** One plan's timeline on the shared time window, marked when it does not answer the current settings. */
  const planTimeline = (id: string, p: PlanView, stale: string | null) => (
    <Current stale={stale}>
      <Timeline
        id={id}
        title={`${p.planner}: ${p.layers}×${p.slices}, ${fmtMs(p.makespanMs)}`}
        events={p.events}
        memory={p.memory}
        window={w}
        onWindow={setWin}
        fullEndUs={end}
        targetMs={q.targetMs}
      />
    </Current>
  );

  const exportTrace = async (query: ReturnType<typeof planQuery>) => {
    try {
      download(await ctx.api.call('planTrace', { query }));
    } catch (e) {
      ctx.notify((e as Error).message, 'error');
    }
  };

  return (
    <div className="view pipeline">
      <h1>Pipeline</h1>
      <p className="lede">
        Predicted IO → decompress → compute timelines on {q.soc}, one above the other. Hatched red is compute waiting for data; the memory
        lane is the preload buffer plus shards read and not yet decoded. Click a timeline, then W/S zoom, A/D pan and 0 resets (as in
        Perfetto); the wheel zooms, dragging pans, shift-drag measures a range; hover a bar for its shard.
      </p>
      <section className="panel controls">
        <label htmlFor="pa">Top</label>
        <PlannerSelect ctx={ctx} id="pa" value={q.planner} onChange={(v) => ctx.setQuery({ planner: v })} />
        <label htmlFor="pb">Bottom</label>
        <PlannerSelect ctx={ctx} id="pb" value={q.comparePlanner} onChange={(v) => ctx.setQuery({ comparePlanner: v })} />
        <span className="muted">
          target {q.targetMs} ms · buffer {q.bufferKb} KB
        </span>
        <span className="spacer" />
        <button onClick={() => exportTrace(planQuery(q))}>Export Chrome trace (top)</button>
      </section>
      {plan?.importance === 'missing' && <ImportanceMissing ctx={ctx} />}
      {ctx.planError && <ErrorBox text={ctx.planError} />}
      {otherError && <ErrorBox text={otherError} />}
      {!plan && !ctx.planError && <Empty title="Planning…" />}
      {plan && planTimeline('a', plan, ctx.planStale)}
      {other && planTimeline('b', other, notCurrent(other.query, { ...planQuery(q), planner: q.comparePlanner }, otherError, null))}
      <div className="legend">
        <span>
          <i style={{ background: 'var(--b2)' }} /> 2-bit … <i style={{ background: 'var(--b6)' }} /> 6-bit{' '}
          <i style={{ background: 'var(--b32)' }} /> fp32 shards
        </span>
        <span>
          <i style={{ background: 'var(--compute)' }} /> layer compute
        </span>
        <span>
          <i className="hatch" /> stall
        </span>
        <span>
          <i style={{ background: 'var(--accent)' }} /> memory
        </span>
      </div>
    </div>
  );
}
