import type { JobState } from '../state.js';
import type { PlanView } from '../../../engine/workbench/api.js';
import { bitColor, fmtBytes } from '../format.js';

export function Progress({ job, onCancel }: { job: JobState; onCancel?: () => void }) {
  const pct = job.total > 0 ? (100 * job.done) / job.total : 0;
  return (
    <div className="progress-row" data-testid={`progress-${job.kind}`}>
      <div
        className="progress"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={job.total}
        aria-valuenow={job.done}
        aria-label={job.label}
      >
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="muted">
        {job.status === 'running'
          ? `${job.stage ? job.stage + ' ' : ''}${job.done}/${job.total || '…'}`
          : job.status === 'error'
            ? `failed: ${job.message}`
            : job.status}
      </span>
      {job.status === 'running' && onCancel && (
        <button className="small" onClick={onCancel}>
          Cancel
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="empty" role="status">
      <strong>{title}</strong>
      <div>{children}</div>
    </div>
  );
}

export function ErrorBox({ text, next }: { text: string; next?: string }) {
  return (
    <div className="error-box" role="alert">
      <strong>{text}</strong>
      {next && <div>{next}</div>}
    </div>
  );
}

/** The layer × slice grid of a plan: each shard's bits, preloaded ones marked. */
export function BitsGrid({ plan, compact }: { plan: PlanView; compact?: boolean }) {
  const rows = Array.from({ length: plan.layers }, (_, l) => plan.shards.filter((s) => s.layer === l).sort((a, b) => a.slice - b.slice));
  return (
    <table className={compact ? 'grid compact' : 'grid'} data-testid="bits-grid">
      <thead>
        <tr>
          <th />
          {rows[0]?.map((s) => (
            <th key={s.slice}>S{s.slice}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, l) => (
          <tr key={l}>
            <th>L{l}</th>
            {r.map((s) => (
              <td
                key={s.slice}
                className={s.preload ? 'cell preload' : 'cell'}
                style={{ background: bitColor(s.bits) }}
                title={`layer ${s.layer} shard ${s.slice}: ${s.bits}-bit, ${fmtBytes(s.bytes)}${s.preload ? ', in the preload buffer' : ', streamed'}`}
                data-bits={s.bits}
                data-preload={s.preload ? '1' : '0'}
              >
                {s.bits}
                {s.preload ? '•' : ''}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Legend() {
  return (
    <div className="legend">
      {[2, 3, 4, 5, 6, 32].map((b) => (
        <span key={b}>
          <i style={{ background: bitColor(b) }} /> {b}-bit
        </span>
      ))}
      <span>• preloaded</span>
    </div>
  );
}

export function ImportanceMissing({ ctx }: { ctx: import('../App.js').Ctx }) {
  const running = Object.values(ctx.jobs).find((j) => j.kind === 'importance' && j.status === 'running');
  const model = ctx.models.find((m) => m.id === ctx.query.model);
  const n = ctx.query.evalLimit || model?.devExamples || 0;
  return (
    <div className="notice" role="status" data-testid="importance-missing">
      <div>
        <strong>No importance profile for {ctx.query.model}</strong> on {n} dev examples: {ctx.query.planner} ranks shards by it, so this
        plan was made with <code>sti-uniform</code> (same pipeline planning, no importance-ordered upgrades).
      </div>
      {running ? (
        <Progress job={running} onCancel={() => ctx.cancelJob(running.jobId)} />
      ) : (
        <div className="row">
          <button
            data-testid="run-importance"
            onClick={() =>
              ctx.startJob(
                { kind: 'importance', model: ctx.query.model, ...(ctx.query.evalLimit ? { evalLimit: ctx.query.evalLimit } : {}) },
                `importance profile of ${ctx.query.model}`,
              )
            }
          >
            Run the importance profile
          </button>
          <span className="muted">
            {model ? `${model.layers * model.slices + 1} evaluations of ${n} examples` : ''}; fewer examples (Setup) make it quicker.
          </span>
          <button className="ghost" onClick={() => ctx.setQuery({ planner: 'sti-uniform' })}>
            Use sti-uniform
          </button>
        </div>
      )}
    </div>
  );
}
