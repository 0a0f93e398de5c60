/** The small status widgets of every view: a job's progress bar, an empty state, an error box, a stale mark. */
import type { JobState } from '../state.js';

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
          ? job.queued
            ? 'queued: waiting for a free slot'
            : `${job.stage ? job.stage + ' ' : ''}${job.done}/${job.total || '…'}${job.etaMs === undefined ? '' : ` · ${timeLeftText(job.etaMs)} left`}`
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

/** "40 s", "3 min 20 s": an estimate of time left. */
function timeLeftText(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function Empty({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="empty" role="status">
      <strong>{title}</strong>
      <div>{children}</div>
    </div>
  );
}

/**
 * Numbers from a plan, dimmed and labelled while that plan does not answer the current settings
 * (`stale`: "not current: <why>", as Ctx.planStale says), so stale numbers never pass for current ones.
 */
export function Current({ stale, children }: { stale: string | null; children: React.ReactNode }) {
  return (
    <div className={stale ? 'current not-current' : 'current'} data-testid="plan-current" data-current={stale ? 'no' : 'yes'}>
      {stale && (
        <div className="not-current-label" role="status" data-testid="not-current">
          {stale}
        </div>
      )}
      <div className="current-body" aria-disabled={stale ? true : undefined}>
        {children}
      </div>
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
