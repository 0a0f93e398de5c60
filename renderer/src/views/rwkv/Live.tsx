/** Live for an RWKV model: a real generation on the modeled SoC, its text streaming token by token over its per-token timeline. */
import { useEffect, useState } from 'react';
import type { RwkvLiveResult } from '../../../../engine/workbench/api.js';
import { Empty } from '../../components/feedback.js';
import { Timeline, type Window } from '../../components/Timeline.js';
import type { Ctx } from '../../context.js';
import { fmtBytes, fmtMs } from '../../format.js';
import { fmtMiB, fmtRate, Toggles } from './common.js';

const PROMPT = '\nAlice was so tired when she got back home so she went';

export function RwkvLiveView({ ctx }: { ctx: Ctx }) {
  const { query: q, rwkv: v } = ctx;
  const [jobId, setJobId] = useState<string | null>(null);
  const [prompt, setPrompt] = useState(PROMPT);
  const [tokens, setTokens] = useState(32);
  const [slowdown, setSlowdown] = useState(10);
  const [win, setWin] = useState<Window | null>(null);
  const job = jobId ? ctx.jobs[jobId] : undefined;
  const running = job?.status === 'running';

  const run = async () => {
    if (running) return;
    setWin(null);
    const id = await ctx.startJob(
      { kind: 'rwkv-live', soc: q.soc, model: q.model, techniques: q.rwkvTechniques, prompt, tokens, slowdown },
      `live generation of ${tokens} tokens`,
    );
    setJobId(id);
  };
  useEffect(() => {
    ctx.registerRun(run);
    return () => ctx.registerRun(null);
  });

  const result = job?.status === 'done' ? (job.result as RwkvLiveResult) : null;
  const text = job?.tokens.map((t) => t.text).join('') ?? '';
  const end = Math.max(1, ...(job?.trace.map((e) => e.end) ?? [0])) * 1.05;
  // While it runs, the window follows the newest events (the last ~4 tokens' worth) unless the user moved it.
  const perToken = (v?.prediction.tokenMs ?? 5) * 1000;
  const w = win ?? (running ? { start: Math.max(0, end - 6 * perToken), end } : { start: 0, end });

  return (
    <div className="view live rwkv">
      <h1>Live</h1>
      <p className="lede">
        Generates for real — onnxruntime steps of {q.model}, real reads of the picked neurons, head clusters and missed embedding rows from
        the on-storage layout, real decodes — paced by {q.soc}'s modeled times, and streams each token as the run reaches it, with the
        per-token timeline filling in under the text.
      </p>
      <section className="panel">
        <Toggles ctx={ctx} />
      </section>
      <section className="panel controls">
        <label htmlFor="rwkv-prompt">Prompt</label>
        <input id="rwkv-prompt" data-testid="rwkv-prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} size={50} />
        <label htmlFor="rwkv-tokens">Tokens</label>
        <input
          id="rwkv-tokens"
          data-testid="rwkv-tokens"
          type="number"
          min={1}
          max={512}
          value={tokens}
          onChange={(e) => setTokens(Math.max(1, Math.min(512, Number(e.target.value) || 1)))}
        />
        <label htmlFor="rwkv-slowdown">Speed</label>
        <select id="rwkv-slowdown" value={slowdown} onChange={(e) => setSlowdown(Number(e.target.value))}>
          <option value={1}>real time</option>
          <option value={10}>10× slow motion</option>
          <option value={50}>50× slow motion</option>
        </select>
        <button onClick={run} disabled={running || !prompt} data-testid="run-live">
          {running ? 'Generating…' : 'Generate'} <kbd>r</kbd>
        </button>
        {running && (
          <button className="ghost" onClick={() => ctx.cancelJob(job!.jobId)}>
            Cancel
          </button>
        )}
        <span data-testid="live-status" className="muted">
          {job ? `${job.status}: ${job.tokens.length} tokens, ${job.trace.length} events` : 'not run yet'}
        </span>
      </section>
      {job?.status === 'error' && <div className="error-box">The run failed: {job.message}</div>}
      {!job && <Empty title="Nothing generated yet">Press Generate (or r) to watch the model write on {q.soc}.</Empty>}
      {job && (
        <section className="panel">
          <h2>Text</h2>
          <p className="generated" data-testid="rwkv-text" style={{ whiteSpace: 'pre-wrap', fontFamily: 'var(--mono, monospace)' }}>
            <span className="muted">{prompt}</span>
            <b>{text}</b>
            {running && <span className="cursor">▍</span>}
          </p>
        </section>
      )}
      {job && (
        <Timeline
          id="live"
          title={`measured (${slowdown === 1 ? 'real time' : `${slowdown}× slow motion, times in modeled ms`}), ${job.tokens.length} tokens`}
          events={job.trace}
          window={w}
          onWindow={setWin}
          fullEndUs={end}
          running={running}
        />
      )}
      {result && (
        <section className="metrics" data-testid="live-result">
          <div className="metric">
            <span>Speed</span>
            <b>{fmtRate(result.tokensPerSecond)}</b>
            <small>
              per token p50 {fmtMs(result.tokenLatencyMsP50)}, p99 {fmtMs(result.tokenLatencyMsP99)}; predicted{' '}
              {fmtMs(result.predictedTokenMs)}
            </small>
          </div>
          <div className="metric">
            <span>First token</span>
            <b>{fmtMs(result.firstTokenMs)}</b>
            <small>after the prompt</small>
          </div>
          <div className={`metric ${result.stallMs > 0 ? 'bad' : 'good'}`}>
            <span>Stall</span>
            <b>{fmtMs(result.stallMs)}</b>
            <small>of {fmtMs(result.makespanMs)}</small>
          </div>
          <div className="metric">
            <span>Memory</span>
            <b>{fmtMiB(result.peakBytes)}</b>
            <small>
              resident {fmtMiB(result.persistentBytes)}; read {fmtBytes(result.ioBytesPerToken)} per token
            </small>
          </div>
          <div className={`metric ${result.overruns ? 'bad' : 'good'}`}>
            <span>Overruns</span>
            <b>{result.overruns}</b>
            <small>{result.overruns ? 'tasks where this host was slower than the modeled SoC' : 'the host kept up with the model'}</small>
          </div>
          {result.embCache && (
            <div className="metric">
              <span>Embedding cache</span>
              <b>{(100 * result.embCache.hitRate).toFixed(1)} %</b>
              <small>
                {result.embCache.hits} hits of {result.embCache.lookups}
              </small>
            </div>
          )}
        </section>
      )}
    </div>
  );
}
