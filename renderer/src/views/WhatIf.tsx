import { BitsGrid, Legend } from '../components/BitsGrid.js';
import { Current, Empty, ErrorBox, Progress } from '../components/feedback.js';
import { ImportanceMissing } from '../components/ImportanceMissing.js';
import { PlannerSelect } from '../components/PlannerSelect.js';
import { PlannerTable } from '../components/PlannerTable.js';
import { TargetControl } from '../components/TargetControl.js';
import type { Ctx } from '../context.js';
import { fmtAcc, fmtBytes, fmtMs } from '../format.js';

export function WhatIfView({ ctx }: { ctx: Ctx }) {
  const { query: q, plan } = ctx;
  const accJob = Object.values(ctx.jobs)
    .filter((j) => j.kind === 'accuracy' && j.status === 'running')
    .at(-1);
  const metTarget = plan?.meetsTarget;
  // hold-X keeps the whole model resident whatever the buffer: say when a plan does not fit it.
  const overBuffer = plan ? plan.persistentBytes - plan.bufferBytes : 0;
  return (
    <div className="view whatif">
      <h1>What-if</h1>
      <p className="lede">
        Drag the target latency and the preload buffer: the plan and its predicted timeline are recomputed in virtual time.
      </p>
      <section className="panel controls">
        <label htmlFor="planner">Planner</label>
        <PlannerSelect ctx={ctx} id="planner" value={q.planner} onChange={(v) => ctx.setQuery({ planner: v })} />
        <label htmlFor="target">Target latency</label>
        <TargetControl ctx={ctx} />
        <label htmlFor="buffer">Preload buffer</label>
        <input
          id="buffer"
          data-testid="buffer-slider"
          type="range"
          min={0}
          max={2048}
          step={8}
          value={q.bufferKb}
          onInput={(e) => ctx.setQuery({ bufferKb: Number((e.target as HTMLInputElement).value) }, performance.now())}
          onChange={() => {}}
        />
        <output data-testid="buffer-value">{q.bufferKb} KB</output>
      </section>
      {ctx.planError && <ErrorBox text={ctx.planError} next="Pick another SoC, model or planner in Setup, or change the numbers." />}
      {plan?.importance === 'missing' && <ImportanceMissing ctx={ctx} />}
      {!plan && !ctx.planError && <Empty title="Planning…">The first plan appears in a moment.</Empty>}
      {plan && (
        <Current stale={ctx.planStale}>
          <section className="metrics" aria-live="polite" data-testid="metrics" data-target={plan.query.targetMs}>
            <div className={`metric ${metTarget ? 'good' : 'bad'}`}>
              <span>Predicted latency</span>
              <b data-testid="predicted-ms">{fmtMs(plan.makespanMs)}</b>
              <small>
                {metTarget ? `meets ${plan.query.targetMs} ms` : `misses ${plan.query.targetMs} ms by ${fmtMs(plan.overshootMs)}`}
              </small>
            </div>
            <div className={`metric ${plan.stallMs > 0 ? 'bad' : 'good'}`}>
              <span>Stall</span>
              <b data-testid="stall-ms">{fmtMs(plan.stallMs)}</b>
              <small>compute waiting for IO</small>
            </div>
            <div className="metric">
              <span>Submodel</span>
              <b data-testid="submodel">
                {plan.layers} × {plan.slices}
              </b>
              <small>layers × shards per layer</small>
            </div>
            <div className="metric">
              <span>Accuracy</span>
              <b data-testid="accuracy">{plan.accuracy ? fmtAcc(plan.accuracy.accuracy, plan.accuracy.examples) : '—'}</b>
              <small>
                {plan.accuracy ? (
                  `95 % interval; ${plan.accuracy.split}, ${plan.accuracy.examples} examples (stored)`
                ) : plan.importance === 'needs-data' ? (
                  <span data-testid="accuracy-needs-data">
                    needs a data file: this model has no task of its own (Setup → Your own data)
                  </span>
                ) : accJob ? (
                  'evaluating in the background…'
                ) : q.autoAccuracy ? (
                  'not evaluated yet'
                ) : (
                  'background accuracy is off (Setup)'
                )}
              </small>
              {accJob && !plan.accuracy && <Progress job={accJob} />}
            </div>
            <div className={`metric ${overBuffer > 0 ? 'bad' : ''}`}>
              <span>Preload memory</span>
              <b data-testid="memory">{fmtBytes(plan.persistentBytes)}</b>
              {overBuffer > 0 ? (
                <small data-testid="memory-warning" role="alert">
                  exceeds the {fmtBytes(plan.bufferBytes)} buffer by {fmtBytes(overBuffer)} (
                  {(plan.persistentBytes / Math.max(plan.bufferBytes, 1)).toFixed(1)}×)
                </small>
              ) : (
                <small>of {fmtBytes(plan.bufferBytes)} buffer</small>
              )}
            </div>
            <div className="metric">
              <span>Streamed per request</span>
              <b>{fmtBytes(plan.streamedBytes)}</b>
              <small>
                planned in {plan.planMs.toFixed(2)} ms
                {ctx.lastUpdateMs !== null && (
                  <>
                    {' '}
                    · updated in <span data-testid="update-ms">{ctx.lastUpdateMs.toFixed(1)}</span> ms
                  </>
                )}
              </small>
            </div>
          </section>
          <section className="panel">
            <h2>
              Plan: <span data-testid="plan-planner">{plan.planner}</span>
            </h2>
            <BitsGrid plan={plan} compact />
            <Legend />
          </section>
          <section className="panel">
            <h2>
              Every planner at {q.targetMs} ms and {q.bufferKb} KB
            </h2>
            <PlannerTable ctx={ctx} />
          </section>
        </Current>
      )}
    </div>
  );
}
