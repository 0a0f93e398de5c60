import { useState } from 'react';
import type { Ctx } from '../context.js';
import type { SocProfile } from '../../../engine/workbench/api.js';
import { wilson95 } from '../../../engine/eval/interval.js';
import { RWKV_QUICK_LIMIT } from './rwkv/common.js';
import { OwnDataPanel } from './OwnData.js';
import { ImportModelPanel } from './ImportModel.js';

interface Sourced {
  value: number;
  kind: 'measured' | 'peak' | 'derived' | 'unverified';
  source: string;
  note?: string;
}

/** Every sourced number of a profile with its path, for the details table. */
function sourcedNumbers(p: SocProfile): { path: string; n: Sourced }[] {
  const out: { path: string; n: Sourced }[] = [];
  const walk = (v: unknown, path: string) => {
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.value === 'number' && typeof o.source === 'string') return void out.push({ path, n: o as unknown as Sourced });
    for (const [k, x] of Object.entries(o)) if (k !== 'sources') walk(x, Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${k}` : k);
  };
  walk(p, '');
  return out;
}

function summary(p: SocProfile): string {
  const c = p.cpu.clusters.find((x) => x.id === p.defaults.cluster) ?? p.cpu.clusters[0];
  return `${c.cores.value}× ${c.core} @ ${c.ghz.value} GHz`;
}

interface Draft {
  id: string;
  name: string;
  readMBps: number;
  requestLatencyMs: number;
  cores: number;
  ghz: number;
  gpu: boolean;
}

function edited(base: SocProfile, d: Draft): SocProfile {
  const p = structuredClone(base) as SocProfile;
  const src = 'workbench-edit';
  const mark = (n: Sourced, value: number) =>
    n.value === value ? n : { value, kind: 'unverified' as const, source: src, note: `edited from ${n.value}` };
  p.id = d.id;
  p.name = d.name;
  p.description = `Edited copy of ${base.id} (${base.name}).`;
  p.storage.readMBps = mark(p.storage.readMBps, d.readMBps);
  p.storage.requestLatencyMs = mark(p.storage.requestLatencyMs, d.requestLatencyMs);
  const c = p.cpu.clusters.find((x) => x.id === p.defaults.cluster)!;
  const scale = d.ghz / c.ghz.value;
  if (d.ghz !== c.ghz.value) c.peakGflopsPerCore = mark(c.peakGflopsPerCore, +(c.peakGflopsPerCore.value * scale).toFixed(3));
  c.ghz = mark(c.ghz, d.ghz);
  c.cores = mark(c.cores, d.cores);
  p.defaults.cores = Math.min(p.defaults.cores, d.cores);
  if (p.gpu) p.defaults.computeUnit = d.gpu ? 'gpu' : 'cpu';
  p.sources = [
    ...p.sources.filter((s) => s.id !== src),
    { id: src, citation: `Edited in the shardlab workbench from ${base.id} on ${new Date().toISOString().slice(0, 10)}` },
  ];
  return p;
}

const FAMILIES = [
  { id: 'bert', label: 'BERT classifiers (STI)' },
  { id: 'rwkv', label: 'RWKV language models (RWKV-edge)' },
];

/** The widest 95 % interval an accuracy on n examples can have (at 50 %), in points: what a quick mode costs. */
const halfWidth = (n: number) => {
  const { low, high } = wilson95(0.5, n);
  return ((100 * (high - low)) / 2).toFixed(n >= 1000 ? 1 : 0);
};

export function SetupView({ ctx }: { ctx: Ctx }) {
  const { query: q } = ctx;
  const selected = ctx.socs.find((s) => s.profile.id === q.soc) ?? ctx.socs[0];
  const [draft, setDraft] = useState<Draft | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const p = selected.profile;
  const model = ctx.models.find((m) => m.id === q.model);

  const startEdit = () => {
    const c = p.cpu.clusters.find((x) => x.id === p.defaults.cluster)!;
    setError(null);
    setDraft({
      id: `${p.id}-copy`,
      name: `${p.name} (edited)`,
      readMBps: p.storage.readMBps.value,
      requestLatencyMs: p.storage.requestLatencyMs.value,
      cores: c.cores.value,
      ghz: c.ghz.value,
      gpu: p.defaults.computeUnit === 'gpu',
    });
  };
  const save = async () => {
    if (!draft) return;
    setSaving(true);
    try {
      const entry = await ctx.api.call('saveSoc', { profile: edited(p, draft) });
      await ctx.reloadSocs();
      ctx.setQuery({ soc: entry.profile.id });
      ctx.notify(`Saved ${entry.profile.id} to ${entry.file}`);
      setDraft(null);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setSaving(false);
    }
  };
  const num = (k: keyof Draft, step = 'any') => (
    <input
      id={`edit-${k}`}
      type="number"
      step={step}
      value={String(draft![k])}
      onChange={(e) => setDraft({ ...draft!, [k]: Number(e.target.value) })}
    />
  );

  return (
    <div className="view setup">
      <h1>Setup</h1>
      <section className="panel controls">
        <label htmlFor="family">Family</label>
        <select
          id="family"
          data-testid="family"
          value={ctx.family}
          onChange={(e) => {
            const first = ctx.models.find((m) => m.family === e.target.value);
            if (first) ctx.setQuery({ model: first.id });
          }}
        >
          {FAMILIES.filter((f) => ctx.models.some((m) => m.family === f.id)).map((f) => (
            <option key={f.id} value={f.id}>
              {f.label}
            </option>
          ))}
        </select>
        <label htmlFor="model">Model</label>
        <select id="model" value={q.model} onChange={(e) => ctx.setQuery({ model: e.target.value })}>
          {ctx.models
            .filter((m) => m.family === ctx.family)
            .map((m) => (
              <option key={m.id} value={m.id}>
                {m.rwkv
                  ? `${m.id} (RWKV-${m.rwkv.version}: ${m.layers} layers, width ${m.rwkv.embd}, FFN ${m.rwkv.ffn}, vocabulary ${m.rwkv.vocab})`
                  : `${m.id} (${m.layers} layers × ${m.slices} shards, hidden ${m.hidden})${m.imported ? (m.imported.problem ? ', unavailable' : ', imported') : ''}`}
              </option>
            ))}
        </select>
        <label htmlFor="task">Task</label>
        <select id="task" value={model?.task} disabled={true} title="Each bundled model is trained for one task">
          <option value={model?.task}>{model?.task || 'none of its own (measures on your own data)'}</option>
        </select>
        {ctx.family === 'rwkv' ? (
          <p className="muted" data-testid="rwkv-setup-note">
            An RWKV language model generating token by token (RWKV-edge): What-if sets the memory budget, the token-latency target and the
            techniques; quality is perplexity on held-out English, measured on demand. Low-rank runs the model's trained low-rank sibling (
            {q.model}-lowrank8-relu2), which is why the siblings are not listed as models of their own.
          </p>
        ) : null}
        {ctx.family === 'rwkv' ? (
          <>
            <label htmlFor="rwkvQualityLimit">Quality on</label>
            <select
              id="rwkvQualityLimit"
              data-testid="rwkv-quality-limit"
              value={q.rwkvQualityLimit}
              onChange={(e) => ctx.setQuery({ rwkvQualityLimit: Number(e.target.value) })}
            >
              <option value={0}>the planner's sample of test passages</option>
              <option value={RWKV_QUICK_LIMIT}>{RWKV_QUICK_LIMIT} test passages, a fixed stratified sample (quick, rough)</option>
            </select>
          </>
        ) : (
          <>
            <label htmlFor="evalLimit">Accuracy on</label>
            <select
              id="evalLimit"
              data-testid="eval-limit"
              value={q.evalLimit}
              onChange={(e) => ctx.setQuery({ evalLimit: Number(e.target.value) })}
            >
              <option value={0}>
                {model?.devExamples
                  ? `all ${model.devExamples} dev examples (95 % interval at most ± ${halfWidth(model.devExamples)} points)`
                  : 'all dev examples of the data file (Your own data)'}
              </option>
              {[200, 50, 20].map((n) => (
                <option key={n} value={n}>
                  {n} dev examples, a fixed stratified sample (quick; ± up to {halfWidth(n)} points)
                </option>
              ))}
            </select>
            <label className="check">
              <input type="checkbox" checked={q.autoAccuracy} onChange={(e) => ctx.setQuery({ autoAccuracy: e.target.checked })} /> evaluate
              accuracy in the background
            </label>
          </>
        )}
      </section>
      <ImportModelPanel ctx={ctx} />
      {ctx.family === 'rwkv' ? null : <OwnDataPanel ctx={ctx} />}
      <div className="two">
        <section className="panel">
          <h2>SoC profiles</h2>
          <table className="list" data-testid="soc-list">
            <thead>
              <tr>
                <th>id</th>
                <th>storage</th>
                <th>CPU</th>
                <th>GPU</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {ctx.socs.map((s) => (
                <tr
                  key={s.profile.id}
                  className={s.profile.id === q.soc ? 'selected' : ''}
                  onClick={() => ctx.setQuery({ soc: s.profile.id })}
                  data-soc={s.profile.id}
                  aria-selected={s.profile.id === q.soc}
                >
                  <td>
                    <button className="linkish">{s.profile.id}</button>
                  </td>
                  <td>
                    {s.profile.storage.kind}, {s.profile.storage.readMBps.value} MB/s
                  </td>
                  <td>{summary(s.profile)}</td>
                  <td>{s.profile.gpu ? (s.profile.defaults.computeUnit === 'gpu' ? 'used' : 'off') : '—'}</td>
                  <td className="muted">{s.bundled ? 'bundled' : 'yours'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section className="panel" data-testid="soc-details">
          <h2>
            {p.name} <span className="muted">({p.id})</span>
          </h2>
          {p.description && <p className="muted">{p.description}</p>}
          {!draft && (
            <button onClick={startEdit} data-testid="edit-copy">
              Edit a copy…
            </button>
          )}
          {draft && (
            <form
              className="edit"
              onSubmit={(e) => {
                e.preventDefault();
                void save();
              }}
            >
              <label htmlFor="edit-id">New id</label>
              <input id="edit-id" value={draft.id} onChange={(e) => setDraft({ ...draft, id: e.target.value })} />
              <label htmlFor="edit-name">Name</label>
              <input id="edit-name" value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
              <label htmlFor="edit-readMBps">Storage read, MB/s</label>
              {num('readMBps')}
              <label htmlFor="edit-requestLatencyMs">Per-request latency, ms</label>
              {num('requestLatencyMs')}
              <label htmlFor="edit-cores">Cores ({p.defaults.cluster} cluster)</label>
              {num('cores', '1')}
              <label htmlFor="edit-ghz">Clock, GHz</label>
              {num('ghz')}
              <label className="check">
                <input
                  type="checkbox"
                  disabled={!p.gpu}
                  checked={draft.gpu}
                  onChange={(e) => setDraft({ ...draft, gpu: e.target.checked })}
                />{' '}
                compute on the GPU {p.gpu ? `(${p.gpu.name})` : '(this SoC has none in its profile)'}
              </label>
              {error && (
                <div className="error-box" role="alert" data-testid="save-error">
                  {error}
                </div>
              )}
              <div className="row">
                <button type="submit" disabled={saving} data-testid="save-soc">
                  {saving ? 'Saving…' : 'Save as new profile'}
                </button>
                <button type="button" className="ghost" onClick={() => setDraft(null)}>
                  Cancel
                </button>
              </div>
              <p className="muted">Edited numbers are saved as unverified, with a note of the original value.</p>
            </form>
          )}
          <table className="list numbers">
            <thead>
              <tr>
                <th>number</th>
                <th>value</th>
                <th>kind</th>
                <th>source</th>
              </tr>
            </thead>
            <tbody>
              {sourcedNumbers(p).map(({ path, n }) => (
                <tr key={path}>
                  <td>{path}</td>
                  <td>{n.value}</td>
                  <td className={`kind ${n.kind}`}>{n.kind}</td>
                  <td title={p.sources.find((s) => s.id === n.source)?.citation}>
                    {n.source}
                    {n.note ? ` — ${n.note}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Sources</h3>
          <ul className="sources">
            {p.sources.map((s) => (
              <li key={s.id}>
                <b>{s.id}</b>: {s.citation}
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
