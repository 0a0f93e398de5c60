/** Buffer for an RWKV model: what is resident, stacked by category with the transient peak, and the embedding cache. */
import { Bar, BarChart, CartesianGrid, Legend, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { RwkvLiveResult } from '../../../../engine/workbench/api.js';
import { Current, Empty, ErrorBox } from '../../components/feedback.js';
import type { Ctx } from '../../context.js';
import { fmtMiB, Toggles } from './common.js';

/** RWKV-edge's categories, then the state and what a token holds transiently, each with a colour. */
const PARTS: { key: string; label: string; color: string }[] = [
  { key: 'attention', label: 'attention (time-mix)', color: '#4e79a7' },
  { key: 'ffnKeyValue', label: 'FFN key/value', color: '#f28e2b' },
  { key: 'ffnReceptance', label: 'FFN receptance', color: '#e15759' },
  { key: 'predictors', label: 'predictors', color: '#76b7b2' },
  { key: 'head', label: 'head', color: '#59a14f' },
  { key: 'embedding', label: 'embedding (cache)', color: '#edc948' },
  { key: 'vectors', label: 'vectors and norms', color: '#b07aa1' },
  { key: 'state', label: 'recurrent state', color: '#9c755f' },
  { key: 'transient', label: 'transient peak (reads in flight, decoded rows)', color: '#bab0ac' },
];

export function RwkvBufferView({ ctx }: { ctx: Ctx }) {
  const { query: q, rwkv: v } = ctx;
  const live = Object.values(ctx.jobs)
    .filter((j) => j.kind === 'rwkv-live' && j.status === 'done')
    .sort((a, b) => a.startedAt - b.startedAt)
    .at(-1)?.result as RwkvLiveResult | undefined;
  if (ctx.rwkvError) return <ErrorBox text={ctx.rwkvError} />;
  if (!v) return <Empty title="Predicting…" />;
  const r = v.prediction.resident;
  const mib = (b: number) => b / 2 ** 20;
  const transient = v.prediction.peakBytes - v.prediction.persistentBytes;
  const row: Record<string, number | string> = { name: v.setting.techniques.stream ? 'dense streamed' : 'this setting' };
  for (const p of PARTS) row[p.key] = mib(p.key === 'state' ? r.state : p.key === 'transient' ? transient : (r.byCategory[p.key] ?? 0));
  const spec = v.setting.spec as { embCache?: { rows: number; policy: string } };
  return (
    <div className="view buffer rwkv">
      <h1>Buffer</h1>
      <p className="lede">
        What {q.model} keeps in memory on {q.soc} with this setting: the weights held by RWKV-edge's categories (neurons and head rows read
        per token are not held), the embedding cache, the recurrent state, and on top the most a token holds at once while it runs.
      </p>
      <section className="panel">
        <Toggles ctx={ctx} />
      </section>
      <Current stale={ctx.rwkvStale}>
        <div className="two">
          <section className="panel" data-testid="rwkv-resident-chart">
            <h2>
              Resident {fmtMiB(v.prediction.persistentBytes)}, peak {fmtMiB(v.prediction.peakBytes)} of a {q.rwkvMemoryMb} MiB budget
            </h2>
            <ResponsiveContainer width="100%" height={340}>
              <BarChart data={[row]} margin={{ top: 10, right: 20, left: 10, bottom: 10 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="name" />
                <YAxis unit=" MiB" domain={[0, (max: number) => Math.max(max, q.rwkvMemoryMb) * 1.05]} />
                <Tooltip formatter={(x) => `${Number(x).toFixed(3)} MiB`} />
                <Legend />
                {PARTS.map((p) => (
                  <Bar key={p.key} dataKey={p.key} name={p.label} stackId="m" fill={p.color} isAnimationActive={false} />
                ))}
                <ReferenceLine y={q.rwkvMemoryMb} stroke="var(--bad, #c00)" strokeDasharray="4 2" label="budget" />
              </BarChart>
            </ResponsiveContainer>
          </section>
          <section className="panel">
            <h2>By category</h2>
            <table className="list numbers" data-testid="rwkv-resident-table">
              <tbody>
                {PARTS.map((p) => (
                  <tr key={p.key}>
                    <td>
                      <i className="swatch" style={{ background: p.color, display: 'inline-block', width: 10, height: 10 }} /> {p.label}
                    </td>
                    <td>{(row[p.key] as number).toFixed(3)} MiB</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h2>Embedding cache</h2>
            {spec.embCache ? (
              <div data-testid="rwkv-cache">
                <p>
                  {spec.embCache.rows} rows, {spec.embCache.policy.toUpperCase()}: {fmtMiB(r.cache)} held. Predicted hit rate{' '}
                  {(100 * v.stats.embHitRate).toFixed(1)} % <span className="muted">({v.stats.sources.embHitRate})</span>.
                </p>
                {live?.embCache ? (
                  <>
                    <p data-testid="rwkv-cache-live">
                      Last live run: {live.embCache.hits} hits of {live.embCache.lookups} lookups (
                      {(100 * live.embCache.hitRate).toFixed(1)} %), {live.embCache.rows} rows cached at its end. Most recent rows:
                    </p>
                    <div className="cache-rows" data-testid="rwkv-cache-contents">
                      {live.cacheContents.map((c, i) => (
                        <code key={i} title={`token ${c.id}`}>
                          {JSON.stringify(c.text)}
                        </code>
                      ))}
                    </div>
                  </>
                ) : (
                  <p className="muted">Run a generation in Live to see what the cache holds and its measured hit rate.</p>
                )}
              </div>
            ) : (
              <p className="muted" data-testid="rwkv-cache">
                No embedding cache in this setting
                {v.setting.techniques.stream ? ': the embedding is read per token' : ': the whole embedding is held'}.
              </p>
            )}
          </section>
        </div>
      </Current>
    </div>
  );
}
