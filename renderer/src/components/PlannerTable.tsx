/**
 * Every planner at the current target and buffer (What-if): predicted latency, stall, accuracy ± its
 * interval from the cache (or a button that computes it), resident memory and the deadline verdict.
 * Asked once the sliders rest (400 ms), so it never queues ahead of the plan a drag is waiting for; the
 * latest answer wins; a row click picks that planner.
 */
import { useEffect, useRef, useState } from 'react';
import { plannerStyle } from '../../../engine/report/palette.js';
import type { PlannerSummary } from '../../../engine/workbench/api.js';
import type { Ctx } from '../context.js';
import { planQuery } from '../state.js';
import { fmtAcc, fmtBytes, fmtMs } from '../format.js';
import { Swatch } from './charts.js';

export function PlannerTable({ ctx }: { ctx: Ctx }) {
  const { soc, model, targetMs, bufferKb, evalLimit, data } = ctx.query;
  // The answer with the target it was planned for: while a newer one is on its way, the verdicts stay paired with their own target.
  const [answer, setAnswer] = useState<{ rows: PlannerSummary[]; targetMs: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const asked = useRef(0);
  // Accuracy jobs that finish change the cache: ask again when one is done.
  const doneJobs = Object.values(ctx.jobs).filter((j) => j.kind !== 'live' && j.status === 'done').length;
  useEffect(() => {
    const n = ++asked.current;
    const t = setTimeout(() => {
      const { soc, model, targetMs, bufferKb, evalLimit, data } = planQuery(ctx.query);
      ctx.api
        .call('planAll', { soc, model, targetMs, bufferKb, ...(evalLimit ? { evalLimit } : {}), ...(data ? { data } : {}) })
        .then((rows) => n === asked.current && (setAnswer({ rows, targetMs }), setError(null)))
        .catch((e: Error) => n === asked.current && setError(e.message));
    }, 400);
    return () => clearTimeout(t);
  }, [soc, model, targetMs, bufferKb, evalLimit, data, doneJobs]);

  const compute = (planner: string) =>
    ctx.startJob({ kind: 'accuracy', query: { ...planQuery(ctx.query), planner } }, `accuracy of ${planner} at ${targetMs} ms`);
  const running = (planner: string) =>
    Object.values(ctx.jobs).some(
      (j) => j.kind === 'accuracy' && j.status === 'running' && j.label === `accuracy of ${planner} at ${targetMs} ms`,
    );

  if (error) return <p className="bad-text">{error}</p>;
  if (!answer) return <p className="muted">Planning every planner…</p>;
  const { rows } = answer;
  return (
    <table className="list planners" data-testid="planner-table">
      <thead>
        <tr>
          <th>planner</th>
          <th>submodel</th>
          <th>predicted latency</th>
          <th>deadline ({answer.targetMs} ms)</th>
          <th>stall</th>
          <th>accuracy (95 % interval)</th>
          <th>preload memory</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const over = r.persistentBytes - r.bufferBytes;
          return (
            <tr
              key={r.planner}
              data-planner={r.planner}
              className={r.planner === ctx.query.planner ? 'selected' : ''}
              onClick={() => ctx.setQuery({ planner: r.planner })}
              title={`plan with ${r.planner}`}
            >
              <td>
                <Swatch style={plannerStyle(r.planner)} met={r.meetsTarget} /> {r.planner}
                {r.madeBy !== r.planner && <small className="muted"> (as {r.madeBy}: no importance profile)</small>}
              </td>
              <td>
                {r.layers}×{r.slices}
              </td>
              <td>{fmtMs(r.makespanMs)}</td>
              <td className={r.meetsTarget ? 'good-text' : 'bad-text'}>
                {r.meetsTarget ? 'met' : `missed by ${fmtMs(r.makespanMs - answer.targetMs)}`}
              </td>
              <td>{fmtMs(r.stallMs)}</td>
              <td>
                {r.accuracy ? (
                  fmtAcc(r.accuracy.accuracy, r.accuracy.examples)
                ) : running(r.planner) ? (
                  <span className="muted">computing…</span>
                ) : (
                  <button
                    className="small ghost"
                    onClick={(e) => {
                      e.stopPropagation();
                      void compute(r.planner);
                    }}
                  >
                    — compute
                  </button>
                )}
              </td>
              <td className={over > 0 ? 'bad-text' : ''}>
                {fmtBytes(r.persistentBytes)}
                {over > 0 && <small> ({fmtBytes(over)} over the buffer)</small>}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
