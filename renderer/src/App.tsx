/**
 * The workbench shell: header, navigation, the shared request (SoC, model, planner, target, buffer),
 * the current plan (fetched latest-wins while sliders drag) and whether it is current, background accuracy
 * (one job at a time: a superseded one is cancelled), jobs and their events, the engine's and the
 * connection's state (restarts, drops: said in a banner, then everything is fetched again), theme and
 * keyboard shortcuts.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type {
  AppInfo,
  JobSpec,
  ModelEntry,
  PlanView,
  RwkvWhatIfView as RwkvAnswer,
  SocEntry,
  WorkbenchClient,
} from '../../engine/workbench/api.js';
import { fmtAcc } from './format.js';
import type { Ctx } from './context.js';
import {
  applyEvent,
  newJob,
  loadQuery,
  notCurrent,
  planQuery,
  RWKV_DEFAULTS,
  rwkvQuery,
  sameRequest,
  saveQuery,
  settleLost,
  VIEWS,
  type JobState,
  type Query,
  type ViewId,
} from './state.js';
import { SetupView } from './views/Setup.js';
import { WhatIfView } from './views/WhatIf.js';
import { PipelineView } from './views/Pipeline.js';
import { BufferView } from './views/Buffer.js';
import { TradeoffsView } from './views/Tradeoffs.js';
import { ExperimentsView } from './views/Experiments.js';
import { LiveView } from './views/Live.js';
import { RwkvWhatIfView } from './views/rwkv/WhatIf.js';
import { RwkvPipelineView } from './views/rwkv/Pipeline.js';
import { RwkvBufferView } from './views/rwkv/Buffer.js';
import { RwkvTradeoffsView } from './views/rwkv/Tradeoffs.js';
import { RwkvExperimentsView } from './views/rwkv/Experiments.js';
import { RwkvLiveView } from './views/rwkv/Live.js';

function initialTheme(): 'light' | 'dark' {
  const saved = localStorage.getItem('shardlab-theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function App({ api }: { api: WorkbenchClient }) {
  const [boot, setBoot] = useState<{ info: AppInfo; socs: SocEntry[]; models: ModelEntry[] } | null>(null);
  const [bootError, setBootError] = useState<string | null>(null);
  const [query, setQueryState] = useState<Query | null>(null);
  const [planners, setPlanners] = useState<string[]>([]);
  const [plan, setPlan] = useState<PlanView | null>(null);
  const [planError, setPlanError] = useState<string | null>(null);
  const [planLoading, setPlanLoading] = useState(false);
  const [lastUpdateMs, setLastUpdateMs] = useState<number | null>(null);
  const [jobs, setJobs] = useState<Record<string, JobState>>({});
  const [view, setView] = useState<ViewId>(() => (location.hash.match(/view=(\w+)/)?.[1] as ViewId) ?? 'whatif');
  const [theme, setTheme] = useState(initialTheme);
  const [toast, setToast] = useState<{ text: string; kind: 'ok' | 'error' } | null>(null);
  /** Why the link to the engine is down (browser mode's connection), or null while it is up. */
  const [linkDown, setLinkDown] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  const runRef = useRef<(() => void) | null>(null);
  const inputAt = useRef<number | null>(null);
  const measureAt = useRef<number | null>(null);
  const inflight = useRef(false);
  const queued = useRef<{ q: Query; at: number | null } | null>(null);
  const planCounter = useRef(0);
  const [rwkv, setRwkv] = useState<RwkvAnswer | null>(null);
  const [rwkvError, setRwkvError] = useState<string | null>(null);
  const rwkvCounter = useRef(0);
  const family = (query && boot?.models.find((m) => m.id === query.model)?.family) ?? 'bert';

  // ---- boot -------------------------------------------------------------------------------------
  useEffect(() => {
    (async () => {
      try {
        const [info, socs, models] = await Promise.all([api.call('info', {}), api.call('listSocs', {}), api.call('listModels', {})]);
        setBoot({ info, socs, models });
        const d = info.defaults;
        const q = loadQuery({
          soc: d.soc,
          model: d.model,
          planner: d.planner,
          comparePlanner: d.comparePlanner,
          targetMs: d.targetMs,
          bufferKb: d.bufferKb,
          evalLimit: 0,
          autoAccuracy: true,
          data: '',
          ...RWKV_DEFAULTS,
        });
        if (!socs.some((s) => s.profile.id === q.soc)) q.soc = d.soc;
        if (!models.some((m) => m.id === q.model)) q.model = d.model;
        setQueryState(q);
      } catch (e) {
        setBootError((e as Error).message);
      }
    })();
  }, [api]);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('shardlab-theme', theme);
  }, [theme]);

  useEffect(() => {
    history.replaceState(null, '', `${location.pathname}${location.search}#view=${view}`);
  }, [view]);

  const notify = useCallback((text: string, kind: 'ok' | 'error' = 'ok') => {
    setToast({ text, kind });
    setTimeout(() => setToast((t) => (t?.text === text ? null : t)), kind === 'error' ? 8000 : 4000);
  }, []);

  // ---- planning, latest wins --------------------------------------------------------------------
  const fetchPlan = useCallback(
    async (q: Query, at: number | null) => {
      if (inflight.current) {
        queued.current = { q, at };
        return;
      }
      inflight.current = true;
      setPlanLoading(true);
      const n = ++planCounter.current;
      try {
        const p = await api.call('plan', planQuery(q));
        if (n === planCounter.current) {
          measureAt.current = at;
          setPlan(p);
          setPlanError(null);
        }
      } catch (e) {
        setPlanError((e as Error).message);
      } finally {
        inflight.current = false;
        const next = queued.current;
        queued.current = null;
        if (next) void fetchPlan(next.q, next.at);
        else setPlanLoading(false);
      }
    },
    [api],
  );

  // After the plan answering a slider move has been committed to the DOM: record how long it took.
  useEffect(() => {
    const at = measureAt.current;
    if (at === null || !(plan || rwkv)) return;
    measureAt.current = null;
    const end = performance.now();
    performance.measure('whatif-update', { start: at, end });
    setLastUpdateMs(end - at);
  }, [plan, rwkv]);

  // RWKV: every answer is a prediction (microseconds) and a plan over a small grid; the latest request wins.
  const fetchRwkv = useCallback(
    async (q: Query, at: number | null = null) => {
      const n = ++rwkvCounter.current;
      try {
        const v = await api.call('rwkvWhatIf', rwkvQuery(q));
        if (n === rwkvCounter.current) {
          measureAt.current = at;
          setRwkv(v);
          setRwkvError(null);
        }
      } catch (e) {
        if (n === rwkvCounter.current) setRwkvError((e as Error).message);
      }
    },
    [api],
  );

  useEffect(() => {
    if (!query) return;
    saveQuery(query);
    const at = inputAt.current;
    inputAt.current = null;
    if (family === 'rwkv') {
      setPlan(null);
      void fetchRwkv(query, at);
    } else void fetchPlan(query, at);
  }, [query, fetchPlan, fetchRwkv, family]);

  const setQuery = useCallback((p: Partial<Query>, at?: number) => {
    if (at !== undefined) inputAt.current = at;
    setQueryState((q) => (q ? { ...q, ...p } : q));
  }, []);

  useEffect(() => {
    if (!query || family === 'rwkv') return setPlanners([]);
    api
      .call('planners', { model: query.model })
      .then(setPlanners)
      .catch((e: Error) => notify(e.message, 'error'));
  }, [api, query?.model, notify, family]);

  // ---- jobs -------------------------------------------------------------------------------------
  useEffect(
    () =>
      api.onEvent((e) => {
        setJobs((j) => applyEvent(j, e));
        if (e.type === 'done' && (e.kind === 'accuracy' || e.kind === 'importance' || e.kind === 'rwkv-quality')) refreshRef.current();
        if (e.type === 'error') notify(e.message, 'error');
      }),
    [api, notify],
  );
  const refreshRef = useRef(() => {});
  refreshRef.current = () => query && (family === 'rwkv' ? void fetchRwkv(query) : void fetchPlan(query, null));
  const refetchAllRef = useRef(() => {});
  refetchAllRef.current = () => {
    refreshRef.current();
    if (query && family !== 'rwkv')
      api
        .call('planners', { model: query.model })
        .then(setPlanners)
        .catch(() => {});
  };

  // The engine restarted, or the connection dropped and came back: say so, and fetch what is on screen again.
  useEffect(
    () =>
      api.onStatus((e) => {
        if (e.type === 'engine') {
          notify(e.message, 'error');
          refetchAllRef.current();
        } else if (!e.up) setLinkDown(e.message);
        else {
          setLinkDown(null);
          notify(e.message);
          refetchAllRef.current();
          api
            .call('listJobs', {})
            .then((active) => setJobs((j) => settleLost(j, active)))
            .catch(() => {});
        }
      }),
    [api, notify],
  );

  const startJob = useCallback(
    async (spec: JobSpec, label: string) => {
      try {
        const { jobId } = await api.call('startJob', spec);
        setJobs((j) => ({
          ...j,
          // Events may have arrived before this answer: keep them.
          [jobId]: { ...(j[jobId] ?? newJob(jobId, spec.kind, label)), label },
        }));
        return jobId;
      } catch (e) {
        notify((e as Error).message, 'error');
        return null;
      }
    },
    [api, notify],
  );
  const cancelJob = useCallback(
    (jobId: string) => void api.call('cancelJob', { jobId }).catch((e: Error) => notify(e.message, 'error')),
    [api, notify],
  );

  // Background accuracy: a plan without a cached accuracy gets one computed once the sliders rest. One such
  // job at a time: the one of a plan no longer on screen is cancelled (also when its start is still on its way).
  const accuracyJob = useRef<{ hash: string; jobId: string | null } | null>(null);
  useEffect(() => {
    const hash =
      plan && query?.autoAccuracy && !plan.accuracy && plan.importance !== 'needs-data'
        ? `${plan.query.model}/${plan.configHash}/${plan.query.evalLimit ?? 0}/${plan.query.data ?? ''}`
        : null;
    const current = accuracyJob.current;
    if (current?.hash === hash) return;
    if (current) {
      accuracyJob.current = null;
      if (current.jobId) cancelJob(current.jobId);
    }
    if (!hash || !plan) return;
    const t = setTimeout(async () => {
      const mine = { hash, jobId: null as string | null };
      accuracyJob.current = mine;
      const id = await startJob(
        { kind: 'accuracy', query: plan.query, plan: plan.plan },
        `accuracy of ${plan.planner} ${plan.layers}×${plan.slices}`,
      );
      if (accuracyJob.current === mine) mine.jobId = id;
      else if (id) cancelJob(id);
    }, 400);
    return () => clearTimeout(t);
  }, [plan, query?.autoAccuracy]);

  const reloadSocs = useCallback(async () => {
    const socs = await api.call('listSocs', {});
    setBoot((b) => (b ? { ...b, socs } : b));
  }, [api]);

  const reloadModels = useCallback(async () => {
    const models = await api.call('listModels', {});
    setBoot((b) => (b ? { ...b, models } : b));
  }, [api]);

  // ---- shortcuts --------------------------------------------------------------------------------
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      const typing = ['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName) && (t as HTMLInputElement).type !== 'range';
      if (e.key === 'Escape') setHelp(false);
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      const n = Number(e.key);
      if (n >= 1 && n <= VIEWS.length) setView(VIEWS[n - 1].id);
      else if (e.key === 't') setTheme((x) => (x === 'dark' ? 'light' : 'dark'));
      else if (e.key === '?') setHelp((h) => !h);
      else if (e.key === 'r') {
        setView('live');
        setTimeout(() => runRef.current?.(), 0);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(
    () =>
      api.onMenu?.((c) => {
        if (c.startsWith('view:')) setView(c.slice(5) as ViewId);
        else if (c === 'toggle-theme') setTheme((x) => (x === 'dark' ? 'light' : 'dark'));
        else if (c === 'help') setHelp(true);
        else if (c === 'run') {
          setView('live');
          setTimeout(() => runRef.current?.(), 0);
        }
      }),
    [api],
  );

  const running = Object.values(jobs).filter((j) => j.status === 'running');
  const queuedCount = running.filter((j) => j.queued).length;
  const planStale = query ? notCurrent(plan?.query, planQuery(query), planError, linkDown) : null;
  const rwkvStale = query ? notCurrent(rwkv?.query, rwkvQuery(query), rwkvError, linkDown) : null;
  const ctx: Ctx | null = useMemo(
    () =>
      boot && query
        ? {
            api,
            info: boot.info,
            socs: boot.socs,
            models: boot.models,
            planners,
            query,
            setQuery,
            plan,
            planError,
            planLoading,
            planStale,
            lastUpdateMs,
            jobs,
            startJob,
            cancelJob,
            reloadSocs,
            reloadModels,
            refreshPlan: () => void fetchPlan(query, null),
            notify,
            go: setView,
            registerRun: (f) => (runRef.current = f),
            family,
            rwkv:
              rwkv && query && sameRequest({ soc: rwkv.query.soc, model: rwkv.query.model }, { soc: query.soc, model: query.model })
                ? rwkv
                : null,
            rwkvError,
            rwkvStale,
            refreshRwkv: () => void fetchRwkv(query),
          }
        : null,
    [
      boot,
      query,
      planners,
      plan,
      planError,
      planLoading,
      planStale,
      lastUpdateMs,
      jobs,
      api,
      setQuery,
      startJob,
      cancelJob,
      reloadSocs,
      reloadModels,
      notify,
      fetchPlan,
      family,
      rwkv,
      rwkvError,
      rwkvStale,
      fetchRwkv,
    ],
  );

  if (bootError)
    return (
      <div className="boot error-state" role="alert">
        <h1>shardlab cannot reach its engine</h1>
        <p>{bootError}</p>
        <p>Restart the workbench with `npm start` and open the address it prints.</p>
      </div>
    );
  if (!ctx)
    return (
      <div className="boot" aria-busy="true">
        <h1>shardlab</h1>
        <p>Opening the engine: loading SoC profiles and sharding the bundled models on first use…</p>
      </div>
    );

  const model = ctx.models.find((m) => m.id === query!.model);
  return (
    <div className="app">
      <header className="top">
        <span className="brand">shardlab</span>
        <span className="chip" title="SoC profile">
          {query!.soc}
        </span>
        <span className="chip" title="Model and task">
          {query!.model}
          {model?.task ? ` · ${model.task}` : ''}
        </span>
        {family === 'rwkv' ? (
          <>
            <span className="chip" title="Memory budget and token-latency target" data-testid="chip-rwkv">
              {query!.rwkvMemoryMb} MiB · {query!.rwkvTokenMs > 0 ? `${query!.rwkvTokenMs} ms/token` : 'no latency target'}
            </span>
            {rwkv && (
              <span className="chip" title="Predicted tokens per second of the toggled setting">
                {rwkv.prediction.tokensPerSecond.toFixed(0)} tokens/s
              </span>
            )}
            {rwkv?.quality && <span className="chip">perplexity {rwkv.quality.perplexity.toFixed(1)}</span>}
          </>
        ) : (
          <>
            <span className="chip" title="Planner">
              {plan?.planner ?? query!.planner}
            </span>
            <span className="chip" title="Target latency and preload buffer">
              {query!.targetMs} ms · {query!.bufferKb} KB
            </span>
            {plan?.accuracy && <span className="chip">{fmtAcc(plan.accuracy.accuracy, plan.accuracy.examples)}</span>}
          </>
        )}
        <span className="spacer" />
        {running.length > 0 && (
          <span
            className="chip busy"
            data-testid="jobs-running"
            title={running.map((j) => `${j.label}${j.queued ? ' (queued)' : ''}`).join('\n')}
          >
            {running.length - queuedCount > 0 &&
              `${running.length - queuedCount} job${running.length - queuedCount > 1 ? 's' : ''} running`}
            {running.length - queuedCount > 0 && queuedCount > 0 && ' · '}
            {queuedCount > 0 && `${queuedCount} queued`}
          </span>
        )}
        <button className="ghost" onClick={() => setHelp(true)} title="Keyboard shortcuts (?)">
          ?
        </button>
        <button
          className="ghost"
          data-testid="theme-toggle"
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
          title="Theme (t)"
        >
          {theme === 'dark' ? 'Light' : 'Dark'}
        </button>
      </header>
      <nav className="side" aria-label="Views">
        {VIEWS.map((v, i) => (
          <button key={v.id} className={v.id === view ? 'nav active' : 'nav'} onClick={() => setView(v.id)} data-view={v.id}>
            <span>{v.label}</span>
            <kbd>{i + 1}</kbd>
          </button>
        ))}
        <div className="side-foot">
          {ctx.info.host} mode · v{ctx.info.version}
        </div>
      </nav>
      {linkDown && (
        <div className="banner error" role="alert" data-testid="link-banner">
          {linkDown}
        </div>
      )}
      <main className="content" data-testid={`view-${view}`}>
        {view === 'setup' && <SetupView ctx={ctx} />}
        {/* An RWKV model's views are RWKV-edge's: the same seven places, other content (views/rwkv/). */}
        {family === 'rwkv' ? (
          <>
            {view === 'whatif' && <RwkvWhatIfView ctx={ctx} />}
            {view === 'pipeline' && <RwkvPipelineView ctx={ctx} />}
            {view === 'buffer' && <RwkvBufferView ctx={ctx} />}
            {view === 'tradeoffs' && <RwkvTradeoffsView ctx={ctx} />}
            {view === 'experiments' && <RwkvExperimentsView ctx={ctx} />}
            {view === 'live' && <RwkvLiveView ctx={ctx} />}
          </>
        ) : (
          <>
            {view === 'whatif' && <WhatIfView ctx={ctx} />}
            {view === 'pipeline' && <PipelineView ctx={ctx} />}
            {view === 'buffer' && <BufferView ctx={ctx} />}
            {view === 'tradeoffs' && <TradeoffsView ctx={ctx} />}
            {view === 'experiments' && <ExperimentsView ctx={ctx} />}
            {view === 'live' && <LiveView ctx={ctx} />}
          </>
        )}
      </main>
      {toast && (
        <div className={`toast ${toast.kind}`} role={toast.kind === 'error' ? 'alert' : 'status'} data-testid="toast">
          {toast.text}
        </div>
      )}
      {help && (
        <div className="modal-bg" onClick={() => setHelp(false)}>
          <div className="modal" role="dialog" aria-label="Keyboard shortcuts" onClick={(e) => e.stopPropagation()}>
            <h2>Keyboard shortcuts</h2>
            <table>
              <tbody>
                {VIEWS.map((v, i) => (
                  <tr key={v.id}>
                    <td>
                      <kbd>{i + 1}</kbd>
                    </td>
                    <td>{v.label} view</td>
                  </tr>
                ))}
                <tr>
                  <td>
                    <kbd>r</kbd>
                  </td>
                  <td>Run the plan live</td>
                </tr>
                <tr>
                  <td>
                    <kbd>t</kbd>
                  </td>
                  <td>Toggle light / dark theme</td>
                </tr>
                <tr>
                  <td>
                    <kbd>←</kbd> <kbd>→</kbd>
                  </td>
                  <td>Move a focused slider</td>
                </tr>
                <tr>
                  <td>
                    <kbd>?</kbd>
                  </td>
                  <td>This help; Esc closes it</td>
                </tr>
              </tbody>
            </table>
            <button onClick={() => setHelp(false)}>Close</button>
          </div>
        </div>
      )}
    </div>
  );
}
