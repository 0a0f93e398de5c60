/** Experiments for an RWKV model: the live runs and recorded What-if plans the workbench stored, with their numbers. */
import { useEffect, useState } from 'react';
import type { RwkvRun } from '../../../../engine/workbench/api.js';
import { Empty, ErrorBox } from '../../components/feedback.js';
import type { Ctx } from '../../context.js';
import { fmtMs } from '../../format.js';
import { fmtMiB, fmtRate } from './common.js';

export function RwkvExperimentsView({ ctx }: { ctx: Ctx }) {
  const [runs, setRuns] = useState<RwkvRun[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const settled = Object.values(ctx.jobs).filter((j) => j.kind === 'rwkv-live' && j.status === 'done').length;
  useEffect(() => {
    ctx.api
      .call('listRwkvRuns', {})
      .then((r) => (setRuns(r), setError(null)))
      .catch((e: Error) => setError(e.message));
  }, [ctx.api, settled]);
  const mine = runs?.filter((r) => r.model === ctx.query.model) ?? [];
  const detail = mine.find((r) => r.id === open);
  return (
    <div className="view experiments rwkv">
      <h1>Experiments</h1>
      <p className="lede">
        RWKV experiments of {ctx.query.model}: every live generation (Live) and every plan recorded in What-if, newest first. Click one for
        its setting and text.
      </p>
      {error && <ErrorBox text={error} />}
      {runs && mine.length === 0 && (
        <Empty title="No RWKV experiments stored yet">Generate in Live, or press "Record as experiment" in What-if.</Empty>
      )}
      {mine.length > 0 && (
        <section className="panel">
          <table className="list numbers" data-testid="rwkv-runs">
            <thead>
              <tr>
                <th>#</th>
                <th>kind</th>
                <th>when</th>
                <th>SoC</th>
                <th>setting</th>
                <th>per token</th>
                <th>speed</th>
                <th>peak memory</th>
                <th>perplexity</th>
                <th>budget</th>
              </tr>
            </thead>
            <tbody>
              {mine.map((r) => (
                <tr
                  key={r.id}
                  data-run={r.id}
                  data-kind={r.kind}
                  className={r.id === open ? 'selected' : ''}
                  onClick={() => setOpen(r.id === open ? null : r.id)}
                >
                  <td>{r.id}</td>
                  <td>{r.kind === 'live' ? 'live run' : 'plan'}</td>
                  <td>{new Date(r.at).toLocaleString()}</td>
                  <td>{r.soc}</td>
                  <td title={r.setting.label}>{r.setting.label.length > 48 ? `${r.setting.label.slice(0, 47)}…` : r.setting.label}</td>
                  <td>{fmtMs(r.numbers.tokenMs)}</td>
                  <td>{fmtRate(r.numbers.tokensPerSecond)}</td>
                  <td>{fmtMiB(r.numbers.peakBytes)}</td>
                  <td>{r.quality ? r.quality.perplexity.toFixed(2) : '—'}</td>
                  <td>{r.memoryMb !== undefined ? `${r.memoryMb} MiB${r.tokenMs ? `, ${r.tokenMs} ms` : ''}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {detail && (
        <section className="panel" data-testid="rwkv-run-detail">
          <h2>
            #{detail.id}: {detail.kind === 'live' ? 'live run' : 'recorded plan'} on {detail.soc}
          </h2>
          <p>{detail.setting.label}</p>
          <table className="list">
            <tbody>
              <tr>
                <td>first token</td>
                <td>{fmtMs(detail.numbers.firstTokenMs)}</td>
              </tr>
              <tr>
                <td>stall per token</td>
                <td>{fmtMs(detail.numbers.stallMsPerToken)}</td>
              </tr>
              <tr>
                <td>resident</td>
                <td>{fmtMiB(detail.numbers.persistentBytes)}</td>
              </tr>
              {detail.numbers.embHitRate !== undefined && (
                <tr>
                  <td>embedding cache hit rate</td>
                  <td>{(100 * detail.numbers.embHitRate).toFixed(1)} %</td>
                </tr>
              )}
              {detail.quality && (
                <tr>
                  <td>quality</td>
                  <td>
                    perplexity {detail.quality.perplexity.toFixed(2)} ({detail.quality.split}, {detail.quality.tokens} tokens)
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          {detail.text !== undefined && <pre className="generated">{detail.text}</pre>}
        </section>
      )}
    </div>
  );
}
