import { BitsGrid, HeatLegend, heat, heatText, Legend } from '../components/BitsGrid.js';
import { Empty } from '../components/feedback.js';
import { ImportanceMissing } from '../components/ImportanceMissing.js';
import type { Ctx } from '../context.js';
import { fmtAcc, fmtBytes } from '../format.js';

export function BufferView({ ctx }: { ctx: Ctx }) {
  const { plan } = ctx;
  if (!plan) return <Empty title="Planning…" />;
  const used = plan.persistentBytes;
  const cap = plan.bufferBytes;
  const pct = cap > 0 ? Math.min(100, (100 * used) / cap) : used > 0 ? 100 : 0;
  const over = used - cap;
  const grid = plan.importanceGrid;
  const flat = grid?.flat() ?? [];
  const lo = Math.min(...flat);
  const hi = Math.max(...flat);
  // The profile answers the request's example count (the whole dev split when it is 0).
  const n = ctx.query.evalLimit || ctx.models.find((m) => m.id === ctx.query.model)?.devExamples || 0;
  return (
    <div className="view buffer">
      <h1>Buffer</h1>
      <p className="lede">
        Every shard of the {plan.planner} plan: its bitwidth, and whether it sits in the preload buffer (•) or is streamed during the
        request.
      </p>
      <section className="panel">
        <h2>Preload buffer</h2>
        <div className="capacity" data-testid="capacity">
          <div
            className={over > 0 ? 'progress over' : 'progress'}
            role="meter"
            aria-valuemin={0}
            aria-valuemax={cap}
            aria-valuenow={used}
            aria-label="preload buffer use"
          >
            <div className="progress-fill" style={{ width: `${pct}%` }} />
          </div>
          <span>
            {fmtBytes(used)} used of {fmtBytes(cap)} ({plan.shards.filter((s) => s.preload).length} shards preloaded,{' '}
            {plan.shards.filter((s) => !s.preload).length} streamed: {fmtBytes(plan.streamedBytes)})
          </span>
        </div>
        {over > 0 && (
          <div className="error-box" role="alert" data-testid="memory-warning">
            <strong>
              {plan.planner} keeps {fmtBytes(used)} resident: {fmtBytes(over)} more than the {fmtBytes(cap)} buffer (
              {(used / Math.max(cap, 1)).toFixed(1)}×).
            </strong>
            <div>It does not fit this memory budget; raise the buffer in What-if or pick a planner that streams.</div>
          </div>
        )}
        {cap === 0 && over <= 0 && <p className="muted">The buffer is 0 KB: every shard is streamed. Raise it in What-if.</p>}
      </section>
      <div className="two">
        <section className="panel">
          <h2>Bits and preload per shard</h2>
          <BitsGrid plan={plan} />
          <Legend />
        </section>
        <section className="panel">
          <h2>Importance</h2>
          {grid ? (
            <>
              <table className="grid" data-testid="importance-grid">
                <tbody>
                  {grid.map((row, l) => (
                    <tr key={l}>
                      <th>L{l}</th>
                      {row.map((v, s) => (
                        <td
                          key={s}
                          className="cell"
                          style={{ background: heat(v, lo, hi), color: heatText(v, lo, hi) }}
                          title={`layer ${l} shard ${s}: ${n ? fmtAcc(v, n) : `${(100 * v).toFixed(1)} %`} (95 % interval on ${n} examples)`}
                        >
                          {(100 * v).toFixed(hi - lo < 0.05 ? 1 : 0)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
              <HeatLegend lo={lo} hi={hi} label="importance (%)" />
              <p className="muted">
                sti:32/2 score: accuracy with that shard at fp32 and all others at 2 bits (%). Range {(100 * lo).toFixed(1)}–
                {(100 * hi).toFixed(1)}.
              </p>
            </>
          ) : plan.importance === 'missing' ? (
            <ImportanceMissing ctx={ctx} />
          ) : plan.importance === 'needs-data' ? (
            <p className="muted" data-testid="importance-needs-data">
              {ctx.query.model} has no task of its own: its importance profile (and accuracy) needs a labelled data file of yours (Setup →
              Your own data). Until then it is planned with sti-uniform.
            </p>
          ) : (
            <p className="muted" data-testid="importance-none">
              No importance profile of {ctx.query.model} is stored yet; {plan.planner} does not rank shards by one. A ranking planner (sti)
              asks for it.
            </p>
          )}
        </section>
      </div>
    </div>
  );
}
