import { useEffect } from 'react';
import type { Ctx } from '../context.js';
import { Progress } from './feedback.js';

/**
 * Shown while the planner needs an importance profile the model does not have yet. As the CLI's plan does,
 * the profile starts on first use (once per model and example count; a failed or cancelled one is not
 * restarted by itself); until it lands the plan is made with sti-uniform, and the view re-plans when it does.
 */
/** Profiles this page has started by itself, by job label (a view switch remounts the notice). */
const requested = new Set<string>();

export function ImportanceMissing({ ctx }: { ctx: Ctx }) {
  const label = `importance profile of ${ctx.query.model}${ctx.query.evalLimit ? ` on ${ctx.query.evalLimit} examples` : ''}`;
  const mine = Object.values(ctx.jobs).filter((j) => j.kind === 'importance' && j.label === label);
  const running = mine.find((j) => j.status === 'running');
  const ended = mine.find((j) => j.status === 'error' || j.status === 'cancelled');
  const model = ctx.models.find((m) => m.id === ctx.query.model);
  const n = ctx.query.evalLimit || model?.devExamples || 0;
  const start = () =>
    ctx.startJob(
      {
        kind: 'importance',
        model: ctx.query.model,
        ...(ctx.query.evalLimit ? { evalLimit: ctx.query.evalLimit } : {}),
        ...(ctx.query.data ? { data: ctx.query.data } : {}),
      },
      label,
    );
  useEffect(() => {
    if (mine.length > 0 || requested.has(label)) return;
    requested.add(label);
    void start();
    // Once per model and example count (`mine` and `start` are new on every render).
  }, [label]);
  return (
    <div className="notice" role="status" data-testid="importance-missing">
      <div>
        <strong>Profiling the importance of {ctx.query.model}</strong> on {n} dev examples: {ctx.query.planner} ranks shards by it. Until it
        lands this plan is made with <code>sti-uniform</code> (same pipeline planning, no importance-ordered upgrades); the view re-plans
        when it does.
      </div>
      {running ? (
        <Progress job={running} onCancel={() => ctx.cancelJob(running.jobId)} />
      ) : (
        <div className="row">
          {ended && (
            <button data-testid="run-importance" onClick={start}>
              Run the importance profile again
            </button>
          )}
          <span className="muted">
            {ended ? `the last run ${ended.status === 'error' ? 'failed' : 'was cancelled'}; ` : 'starting; '}fewer examples (Setup) make it
            quicker.
          </span>
          <button className="ghost" onClick={() => ctx.setQuery({ planner: 'sti-uniform' })}>
            Use sti-uniform
          </button>
        </div>
      )}
    </div>
  );
}
