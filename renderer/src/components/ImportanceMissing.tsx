import type { Ctx } from '../context.js';
import { Progress } from './feedback.js';

/** The notice shown when the planner needs an importance profile the model does not have yet, with the button that runs it. */
export function ImportanceMissing({ ctx }: { ctx: Ctx }) {
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
