/** What-if for an RWKV model: memory budget and token-latency sliders, technique toggles, the prediction, quality and the planner's pick. */
import type { RwkvPoint } from '../../../../engine/workbench/api.js';
import { Current, Empty, ErrorBox } from '../../components/feedback.js';
import type { Ctx } from '../../context.js';
import { fmtBytes, fmtMs } from '../../format.js';
import { rwkvQuery } from '../../state.js';
import { useEffect } from 'react';
import { fmtMiB, fmtRate, qualityJob, qualityNote, qualityText, QualityProgress, Toggles } from './common.js';

function PointRow({ p, name, onUse, useTitle }: { p: RwkvPoint; name: string; onUse?: () => void; useTitle?: string }) {
  return (
    <tr data-testid={`plan-${name}`}>
      <th>{name}</th>
      <td title={p.setting.label}>{p.label}</td>
      <td>{fmtMs(p.tokenMs)}</td>
      <td>{fmtRate(p.tokensPerSecond)}</td>
      <td>{fmtMiB(p.peakBytes)}</td>
      <td>{p.quality ? p.quality.perplexity.toFixed(2) : '—'}</td>
      <td>
        {onUse && (
          <button className="small" onClick={onUse} title={useTitle}>
            Use its techniques
          </button>
        )}
      </td>
    </tr>
  );
}

export function RwkvWhatIfView({ ctx }: { ctx: Ctx }) {
  const { query: q, rwkv: v } = ctx;
  const running = qualityJob(ctx);
  // The planner's grid is read once in the background: ask again until it is there.
  const preparing = v?.planStatus === 'preparing';
  useEffect(() => {
    if (!preparing) return;
    const t = setTimeout(() => ctx.refreshRwkv(), 1500);
    return () => clearTimeout(t);
  }, [preparing, v]);
  const measure = () =>
    void ctx.startJob(
      { kind: 'rwkv-quality', model: q.model, techniques: q.rwkvTechniques, limit: v?.qualityLimit },
      `quality of ${v?.setting.label ?? 'the setting'}`,
    );
  const record = async () => {
    try {
      const r = await ctx.api.call('recordRwkvPlan', rwkvQuery(q));
      ctx.notify(`Recorded as experiment #${r.id}`);
    } catch (e) {
      ctx.notify((e as Error).message, 'error');
    }
  };
  const p = v?.prediction;
  return (
    <div className="view whatif rwkv">
      <h1>What-if</h1>
      <p className="lede">
        {q.model} generating token by token on {q.soc}: drag the memory budget and the token-latency target, toggle RWKV-edge's techniques;
        the prediction (the same task graph a run executes, at expected sizes) and the planner's pick update as you move.
      </p>
      <section className="panel controls">
        <label htmlFor="rwkv-memory">Memory budget</label>
        <input
          id="rwkv-memory"
          data-testid="rwkv-memory-slider"
          type="range"
          min={1}
          max={40}
          step={0.5}
          value={q.rwkvMemoryMb}
          onInput={(e) => ctx.setQuery({ rwkvMemoryMb: Number((e.target as HTMLInputElement).value) }, performance.now())}
          onChange={() => {}}
        />
        <output data-testid="rwkv-memory-value">{q.rwkvMemoryMb} MiB</output>
        <label htmlFor="rwkv-latency">Token latency</label>
        <input
          id="rwkv-latency"
          data-testid="rwkv-latency-slider"
          type="range"
          min={0}
          max={40}
          step={0.5}
          value={q.rwkvTokenMs}
          onInput={(e) => ctx.setQuery({ rwkvTokenMs: Number((e.target as HTMLInputElement).value) }, performance.now())}
          onChange={() => {}}
        />
        <output data-testid="rwkv-latency-value">{q.rwkvTokenMs > 0 ? `${q.rwkvTokenMs} ms` : 'no target'}</output>
      </section>
      <section className="panel">
        <h2>Techniques</h2>
        <Toggles ctx={ctx} />
      </section>
      {ctx.rwkvError && (
        <ErrorBox text={ctx.rwkvError} next="Change the toggles (stream dense combines with INT8 only) or pick another model." />
      )}
      {!v && !ctx.rwkvError && <Empty title="Predicting…">The first prediction appears in a moment.</Empty>}
      {v && p && (
        <Current stale={ctx.rwkvStale}>
          <p className="muted" data-testid="rwkv-setting">
            {v.setting.label}
          </p>
          <section className="metrics" aria-live="polite" data-testid="rwkv-metrics">
            <div className={`metric ${v.meetsLatency === false ? 'bad' : v.meetsLatency ? 'good' : ''}`}>
              <span>Per token</span>
              <b data-testid="rwkv-token-ms">{fmtMs(p.tokenMs)}</b>
              <small>
                {v.meetsLatency === null
                  ? 'steady state'
                  : v.meetsLatency
                    ? `meets ${v.query.tokenMs} ms`
                    : `misses ${v.query.tokenMs} ms by ${fmtMs(p.tokenMs - v.query.tokenMs!)}`}
              </small>
            </div>
            <div className="metric">
              <span>Speed</span>
              <b data-testid="rwkv-tps">{fmtRate(p.tokensPerSecond)}</b>
              <small>first token {fmtMs(p.firstTokenMs)}</small>
            </div>
            <div className={`metric ${p.stallMsPerToken > 0 ? 'bad' : 'good'}`}>
              <span>Stall</span>
              <b data-testid="rwkv-stall">{fmtMs(p.stallMsPerToken)}</b>
              <small>per token, compute waiting for reads</small>
            </div>
            <div className={`metric ${v.fits ? 'good' : 'bad'}`}>
              <span>Peak memory</span>
              <b data-testid="rwkv-peak">{fmtMiB(p.peakBytes)}</b>
              <small data-testid="rwkv-fits">
                {v.fits
                  ? `fits ${q.rwkvMemoryMb} MiB (resident ${fmtMiB(p.persistentBytes)})`
                  : `exceeds ${v.query.memoryMb} MiB by ${fmtMiB(p.peakBytes - v.query.memoryMb * 2 ** 20)}`}
              </small>
            </div>
            <div className="metric">
              <span>Read per token</span>
              <b>{fmtBytes(p.ioBytesPerToken)}</b>
              <small>
                predicted and planned in {v.answerMs.toFixed(1)} ms
                {ctx.lastUpdateMs !== null && (
                  <>
                    {' '}
                    · updated in <span data-testid="update-ms">{ctx.lastUpdateMs.toFixed(1)}</span> ms
                  </>
                )}
              </small>
            </div>
            <div className="metric">
              <span>Quality</span>
              <b data-testid="rwkv-quality">{qualityText(v.quality)}</b>
              <small>{qualityNote(v.quality)}</small>
              {!v.quality && !running && (
                <button className="small" data-testid="rwkv-measure" onClick={measure}>
                  Measure on {v.qualityLimit} test passages
                </button>
              )}
              <QualityProgress ctx={ctx} />
            </div>
          </section>
          <section className="panel" data-testid="rwkv-planner">
            <h2>
              Planner: the best setting within {q.rwkvMemoryMb} MiB{q.rwkvTokenMs > 0 ? ` and ${q.rwkvTokenMs} ms per token` : ''}
            </h2>
            {v.plan ? (
              <>
                <table className="list numbers">
                  <thead>
                    <tr>
                      <th />
                      <th>setting</th>
                      <th>per token</th>
                      <th>speed</th>
                      <th>peak memory</th>
                      <th>perplexity</th>
                      <th />
                    </tr>
                  </thead>
                  <tbody>
                    {v.plan.pick && (
                      <PointRow
                        p={v.plan.pick}
                        name="pick"
                        onUse={() => ctx.setQuery({ rwkvTechniques: v.plan!.pick!.setting.techniques }, performance.now())}
                        useTitle="Toggles the pick's techniques (at What-if's default parameters; the pick's own are in its label)"
                      />
                    )}
                    {v.plan.optimum && <PointRow p={v.plan.optimum} name="optimum" />}
                  </tbody>
                </table>
                <p className="muted" data-testid="rwkv-plan-why">
                  {v.plan.pick
                    ? ''
                    : `No pick: ${v.plan.why ?? 'no candidate meets the budget'}. Measure the grid's quality in Tradeoffs. `}
                  {v.plan.candidates} candidates; planned in {v.plan.planMs.toFixed(2)} ms (exhaustive search{' '}
                  {v.plan.exhaustiveMs.toFixed(2)} ms); gap to the optimum {v.plan.gapPct.toFixed(1)} %.
                  {v.plan.why && v.plan.pick ? ` ${v.plan.why}` : ''}
                </p>
              </>
            ) : (
              <p className="muted" data-testid="rwkv-plan-preparing">
                Reading the planner's grid (every setting's statistics and stored quality) — a few seconds, once.
              </p>
            )}
          </section>
          <section className="panel">
            <h2>What the prediction assumed</h2>
            <table className="list">
              <tbody>
                <tr>
                  <td>FFN neurons per token</td>
                  <td>
                    {Array.isArray(v.stats.density)
                      ? v.stats.density.map((d) => `${(100 * d).toFixed(0)} %`).join(', ')
                      : `${(100 * v.stats.density).toFixed(0)} %`}
                  </td>
                  <td className="muted">{v.stats.sources.density}</td>
                </tr>
                <tr>
                  <td>Head rows per token</td>
                  <td>{(100 * v.stats.headTouched).toFixed(1)} %</td>
                  <td className="muted">{v.stats.sources.headTouched}</td>
                </tr>
                <tr>
                  <td>Embedding cache hit rate</td>
                  <td>{(100 * v.stats.embHitRate).toFixed(1)} %</td>
                  <td className="muted">{v.stats.sources.embHitRate}</td>
                </tr>
              </tbody>
            </table>
            <div className="row">
              <button onClick={record} data-testid="rwkv-record">
                Record as experiment
              </button>
            </div>
          </section>
        </Current>
      )}
    </div>
  );
}
