/** Tradeoffs for an RWKV model: the planning grid and the baselines, quality and tokens/s against peak memory. */
import { useEffect, useState } from 'react';
import { CartesianGrid, Legend, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis } from 'recharts';
import type { RwkvGridView, RwkvPoint } from '../../../../engine/workbench/api.js';
import { Empty, ErrorBox } from '../../components/feedback.js';
import type { Ctx } from '../../context.js';
import { fmtMs } from '../../format.js';
import { fmtMiB, fmtRate, qualityJob, QualityProgress } from './common.js';

interface Dot {
  x: number;
  y: number;
  p: RwkvPoint;
}

function PointTip({ active, payload }: { active?: boolean; payload?: { payload: Dot }[] }) {
  if (!active || !payload?.length) return null;
  const { p } = payload[0].payload;
  return (
    <div className="chart-tip">
      <b>{p.label}</b>
      <div className="muted">{p.setting.label}</div>
      <div>
        {fmtMs(p.tokenMs)} per token · {fmtRate(p.tokensPerSecond)} · peak {fmtMiB(p.peakBytes)}
      </div>
      <div>{p.quality ? `perplexity ${p.quality.perplexity.toFixed(2)} (${p.quality.split})` : 'quality not measured'}</div>
    </div>
  );
}

export function RwkvTradeoffsView({ ctx }: { ctx: Ctx }) {
  const { query: q } = ctx;
  const [grid, setGrid] = useState<RwkvGridView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const job = qualityJob(ctx);
  const load = () =>
    ctx.api
      .call('rwkvGrid', { soc: q.soc, model: q.model, ...(q.rwkvQualityLimit > 0 ? { qualityLimit: q.rwkvQualityLimit } : {}) })
      .then((g) => (setGrid(g), setError(null)))
      .catch((e: Error) => setError(e.message));
  const lastDone = Object.values(ctx.jobs).filter((j) => j.kind === 'rwkv-quality' && j.status === 'done').length;
  useEffect(() => void load(), [ctx.api, q.soc, q.model, q.rwkvQualityLimit, lastDone]);

  const measure = () =>
    void ctx.startJob({ kind: 'rwkv-quality', model: q.model, ...(grid?.limit ? { limit: grid.limit } : {}) }, 'quality of the grid');
  const mib = (b: number) => b / 2 ** 20;
  const pts = grid?.points ?? [];
  const dot = (p: RwkvPoint, y: number): Dot => ({ x: mib(p.peakBytes), y, p });
  const withQ = pts.filter((p) => p.quality);
  const dense = pts.find((p) => p.label === 'dense-fp16');
  const missing = pts.filter((p) => !p.quality).length;

  return (
    <div className="view tradeoffs rwkv">
      <h1>Tradeoffs</h1>
      <p className="lede">
        Every setting the planner considers for {q.model}, predicted on {q.soc}: quality (perplexity on held-out text, lower is better) and
        tokens/s against peak memory. Baselines (dense fp16 / INT8 / streamed, each technique alone, all) are diamonds; the dense fp16
        model's numbers are the dashed reference lines. Your {q.rwkvMemoryMb} MiB budget is the red line.
      </p>
      <section className="panel controls">
        <span data-testid="rwkv-grid-count">
          {pts.length} settings ({pts.filter((p) => p.baseline).length} baselines); quality stored for {withQ.length}
        </span>
        <button onClick={measure} disabled={!!job || missing === 0} data-testid="rwkv-measure-grid">
          Measure the grid's missing quality ({missing} point{missing === 1 ? '' : 's'}; {grid?.limit} test passages per distinct setting)
        </button>
        <QualityProgress ctx={ctx} />
      </section>
      {error && <ErrorBox text={error} />}
      {!grid && !error && <Empty title="Predicting the grid…" />}
      {grid && (
        <div className="charts">
          <div data-testid="rwkv-quality-chart">
            <h3>Perplexity against peak memory</h3>
            {withQ.length === 0 ? (
              <Empty title="No quality measured yet">Measure the grid above (seconds per setting), or one setting in What-if.</Empty>
            ) : (
              <ResponsiveContainer width="100%" height={320}>
                <ScatterChart margin={{ top: 10, right: 20, left: 10, bottom: 20 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis type="number" dataKey="x" name="peak memory" unit=" MiB" />
                  <YAxis type="number" dataKey="y" name="perplexity" domain={['auto', 'auto']} />
                  <ZAxis range={[60, 60]} />
                  <Tooltip content={<PointTip />} />
                  <Legend />
                  <Scatter
                    name="grid"
                    data={withQ.filter((p) => !p.baseline).map((p) => dot(p, p.quality!.perplexity))}
                    fill="#4e79a7"
                    isAnimationActive={false}
                  />
                  <Scatter
                    name="baselines"
                    data={withQ.filter((p) => p.baseline).map((p) => dot(p, p.quality!.perplexity))}
                    fill="#e15759"
                    shape="diamond"
                    isAnimationActive={false}
                  />
                  {dense?.quality && <ReferenceLine y={dense.quality.perplexity} stroke="#888" strokeDasharray="5 3" label="dense fp16" />}
                  {dense && <ReferenceLine x={mib(dense.peakBytes)} stroke="#888" strokeDasharray="5 3" />}
                  <ReferenceLine x={q.rwkvMemoryMb} stroke="#c00" strokeDasharray="2 2" label="budget" />
                </ScatterChart>
              </ResponsiveContainer>
            )}
          </div>
          <div data-testid="rwkv-speed-chart">
            <h3>Tokens/s against peak memory</h3>
            <ResponsiveContainer width="100%" height={320}>
              <ScatterChart margin={{ top: 10, right: 20, left: 10, bottom: 20 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis type="number" dataKey="x" name="peak memory" unit=" MiB" />
                <YAxis type="number" dataKey="y" name="tokens/s" scale="log" domain={['auto', 'auto']} />
                <ZAxis range={[60, 60]} />
                <Tooltip content={<PointTip />} />
                <Legend />
                <Scatter
                  name="grid"
                  data={pts.filter((p) => !p.baseline).map((p) => dot(p, p.tokensPerSecond))}
                  fill="#4e79a7"
                  isAnimationActive={false}
                />
                <Scatter
                  name="baselines"
                  data={pts.filter((p) => p.baseline).map((p) => dot(p, p.tokensPerSecond))}
                  fill="#e15759"
                  shape="diamond"
                  isAnimationActive={false}
                />
                {dense && <ReferenceLine y={dense.tokensPerSecond} stroke="#888" strokeDasharray="5 3" label="dense fp16" />}
                <ReferenceLine x={q.rwkvMemoryMb} stroke="#c00" strokeDasharray="2 2" label="budget" />
              </ScatterChart>
            </ResponsiveContainer>
          </div>
        </div>
      )}
      {grid && (
        <section className="panel">
          <h2>Settings</h2>
          <table className="list numbers" data-testid="rwkv-grid-table">
            <thead>
              <tr>
                <th>setting</th>
                <th>per token</th>
                <th>speed</th>
                <th>peak memory</th>
                <th>perplexity</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {pts.map((p) => (
                <tr key={`${p.baseline}-${p.label}`} className={p.baseline ? 'baseline' : ''}>
                  <td title={p.setting.label}>
                    {p.baseline ? '◆ ' : ''}
                    {p.label}
                  </td>
                  <td>{fmtMs(p.tokenMs)}</td>
                  <td>{fmtRate(p.tokensPerSecond)}</td>
                  <td>{fmtMiB(p.peakBytes)}</td>
                  <td>{p.quality ? p.quality.perplexity.toFixed(2) : '—'}</td>
                  <td>
                    <button
                      className="small ghost"
                      title="Toggles its techniques in What-if (at What-if's default parameters)"
                      onClick={() => {
                        ctx.setQuery({ rwkvTechniques: p.setting.techniques });
                        ctx.go('whatif');
                      }}
                    >
                      Open in What-if
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
