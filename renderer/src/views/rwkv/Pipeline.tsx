/** Pipeline for an RWKV model: the predicted per-token timeline (IO, decode, compute lanes, stalls), zoomable to one token. */
import { useEffect, useMemo, useState } from 'react';
import type { TraceEvent } from '../../../../engine/workbench/api.js';
import { Current, Empty, ErrorBox } from '../../components/feedback.js';
import { Timeline, type Window } from '../../components/Timeline.js';
import type { Ctx } from '../../context.js';
import { fmtBytes, fmtMs } from '../../format.js';
import { Toggles } from './common.js';

/**
 * Each token's span on the CPU — from its first compute or wait to its last compute (its reads may start
 * much earlier, prefetched while earlier tokens compute) — and what it waited and read.
 */
export function tokenSpans(events: TraceEvent[]) {
  const tokens = [...new Set(events.map((e) => e.token).filter((t): t is number => t !== undefined))].sort((a, b) => a - b);
  return tokens.map((token) => {
    const mine = events.filter((e) => e.token === token);
    const cpu = mine.filter((e) => e.stage === 'compute' || e.stage === 'stall');
    return {
      token,
      start: Math.min(...cpu.map((e) => e.start)),
      end: Math.max(...cpu.map((e) => e.end)),
      stallUs: mine.filter((e) => e.stage === 'stall').reduce((a, e) => a + e.end - e.start, 0),
      ioBytes: mine.filter((e) => e.stage === 'io').reduce((a, e) => a + e.bytes, 0),
    };
  });
}

export function RwkvPipelineView({ ctx }: { ctx: Ctx }) {
  const { query: q, rwkv: v } = ctx;
  const [win, setWin] = useState<Window | null>(null);
  const [token, setToken] = useState<number | null>(null);
  const events = v?.events ?? [];
  const spans = useMemo(() => tokenSpans(events), [events]);
  const end = Math.max(1, ...events.map((e) => e.end)) * 1.02;
  useEffect(() => {
    setWin(null);
    setToken(null);
  }, [end]);
  const zoomTo = (t: number | null) => {
    setToken(t);
    const s = spans.find((x) => x.token === t);
    if (!s) return setWin(null);
    const pad = (s.end - s.start) * 0.03;
    setWin({ start: Math.max(0, s.start - pad), end: s.end + pad });
  };
  const w = win ?? { start: 0, end };
  return (
    <div className="view pipeline rwkv">
      <h1>Pipeline</h1>
      <p className="lede">
        Predicted per-token timeline of {q.model} on {q.soc}: the IO lane reads embedding rows, picked FFN neurons and head clusters (or
        whole layers when streamed), the decompress lane decodes them, compute runs each layer's time-mix, predictor, FFN and the head. The
        first token starts cold; the last is the steady state. Hatched red is compute waiting for a read. Zoom to one token below, or click
        the timeline and use W/S/A/D.
      </p>
      <section className="panel">
        <Toggles ctx={ctx} />
      </section>
      {ctx.rwkvError && <ErrorBox text={ctx.rwkvError} />}
      {!v && !ctx.rwkvError && <Empty title="Predicting…" />}
      {v && (
        <Current stale={ctx.rwkvStale}>
          <section className="panel controls" data-testid="token-zoom">
            <span>Zoom to</span>
            <button className={token === null ? 'small' : 'small ghost'} onClick={() => zoomTo(null)} data-testid="token-all">
              all {spans.length} tokens
            </button>
            {spans.map((s) => (
              <button
                key={s.token}
                className={token === s.token ? 'small' : 'small ghost'}
                onClick={() => zoomTo(s.token)}
                data-testid={`token-${s.token}`}
              >
                token {s.token}
                {s.token === 0 ? ' (cold)' : s.token === spans.length - 1 ? ' (steady)' : ''}
              </button>
            ))}
          </section>
          <Timeline
            id="rwkv"
            title={`${v.setting.label}: ${fmtMs(v.prediction.tokenMs)} per token`}
            events={events}
            window={w}
            onWindow={setWin}
            fullEndUs={end}
            targetMs={
              q.rwkvTokenMs > 0 && token !== null ? (spans.find((s) => s.token === token)?.start ?? 0) / 1000 + q.rwkvTokenMs : undefined
            }
          />
          <section className="panel">
            <h2>Per token</h2>
            <table className="list numbers" data-testid="token-table">
              <thead>
                <tr>
                  <th>token</th>
                  <th>from</th>
                  <th>to</th>
                  <th>stall</th>
                  <th>read</th>
                </tr>
              </thead>
              <tbody>
                {spans.map((s) => (
                  <tr key={s.token} className={token === s.token ? 'selected' : ''} onClick={() => zoomTo(s.token)}>
                    <td>{s.token}</td>
                    <td>{fmtMs(s.start / 1000)}</td>
                    <td>{fmtMs(s.end / 1000)}</td>
                    <td>{fmtMs(s.stallUs / 1000)}</td>
                    <td>{fmtBytes(s.ioBytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </Current>
      )}
    </div>
  );
}
