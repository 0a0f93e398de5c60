import { useEffect, useState } from 'react';
import type { LiveResult } from '../../../engine/workbench/api.js';
import { Empty } from '../components/feedback.js';
import { Timeline, type Window } from '../components/Timeline.js';
import type { Ctx } from '../context.js';
import { fmtBytes, fmtMs } from '../format.js';
import { planQuery } from '../state.js';

export function LiveView({ ctx }: { ctx: Ctx }) {
  const { query: q, plan } = ctx;
  const [jobId, setJobId] = useState<string | null>(null);
  const [slowdown, setSlowdown] = useState(10);
  const [win, setWin] = useState<Window | null>(null);
  const job = jobId ? ctx.jobs[jobId] : undefined;
  const running = job?.status === 'running';

  const run = async () => {
    if (running) return;
    setWin(null);
    // Run the plan on screen; only while none is there yet does the job plan the query itself.
    const shown = plan && JSON.stringify(plan.query) === JSON.stringify(planQuery(q)) ? { plan: plan.plan } : {};
    const id = await ctx.startJob({ kind: 'live', query: planQuery(q), slowdown, ...shown }, `live run of ${q.planner}`);
    setJobId(id);
  };
  useEffect(() => {
    ctx.registerRun(run);
    return () => ctx.registerRun(null);
  });

  const result = job?.status === 'done' ? (job.result as LiveResult) : null;
  const predictedEnd = (plan?.makespanMs ?? q.targetMs) * 1000;
  // The window takes in the target too, so its line and label are never cut off.
  const end = Math.max(predictedEnd, q.targetMs * 1000, ...(job?.trace.map((e) => e.end) ?? [0])) * 1.05;
  const w = win ?? { start: 0, end };

  return (
    <div className="view live">
      <h1>Live</h1>
      <p className="lede">
        Runs the current plan for real — shard files read, dequantized and computed on onnxruntime — paced by the SoC's modeled times, and
        draws each event as the engine finishes it. Click a timeline, then W/S zoom, A/D pan and 0 resets; shift-drag measures a range.
      </p>
      <section className="panel controls">
        <span>
          {plan?.planner ?? q.planner} on {q.soc}, target {q.targetMs} ms, buffer {q.bufferKb} KB
        </span>
        <label htmlFor="slowdown">Speed</label>
        <select id="slowdown" value={slowdown} onChange={(e) => setSlowdown(Number(e.target.value))}>
          <option value={1}>real time</option>
          <option value={10}>10× slow motion</option>
          <option value={50}>50× slow motion</option>
        </select>
        <button onClick={run} disabled={running} data-testid="run-live">
          {running ? 'Running…' : 'Run'} <kbd>r</kbd>
        </button>
        {running && (
          <button className="ghost" onClick={() => ctx.cancelJob(job!.jobId)}>
            Cancel
          </button>
        )}
        <span data-testid="live-status" className="muted">
          {job ? `${job.status}: ${job.trace.length} events` : 'not run yet'}
        </span>
      </section>
      {job?.status === 'error' && <div className="error-box">The run failed: {job.message}</div>}
      {!job && <Empty title="Nothing run yet">Press Run (or r) to execute the plan in real time and watch its timeline fill in.</Empty>}
      {job && (
        <Timeline
          id="live"
          title={`measured (${slowdown === 1 ? 'real time' : `${job.result ? (job.result as LiveResult).slowdown : slowdown}× slow motion, times in modeled ms`})`}
          events={job.trace}
          window={w}
          onWindow={setWin}
          fullEndUs={end}
          targetMs={q.targetMs}
          running={running}
        />
      )}
      {plan && job && (
        <Timeline
          id="predicted"
          title="predicted (virtual time)"
          events={plan.events}
          memory={plan.memory}
          window={w}
          onWindow={setWin}
          fullEndUs={end}
          targetMs={q.targetMs}
        />
      )}
      {result && (
        <section className="metrics" data-testid="live-result">
          <div className="metric">
            <span>Measured makespan</span>
            <b>{fmtMs(result.makespanMs)}</b>
            <small>predicted {fmtMs(result.predictedMakespanMs)}</small>
          </div>
          <div className={`metric ${result.stallMs > 0 ? 'bad' : 'good'}`}>
            <span>Stall</span>
            <b>{fmtMs(result.stallMs)}</b>
          </div>
          <div className={`metric ${result.overruns ? 'bad' : 'good'}`}>
            <span>Overruns</span>
            <b>{result.overruns}</b>
            <small>{result.overruns ? 'tasks where this host was slower than the modeled SoC' : 'the host kept up with the model'}</small>
          </div>
          <div className="metric">
            <span>Peak memory</span>
            <b>{fmtBytes(result.peakBytes)}</b>
            <small>preload {fmtBytes(result.persistentBytes)}</small>
          </div>
        </section>
      )}
    </div>
  );
}
