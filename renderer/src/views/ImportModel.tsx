import { useState } from 'react';
import type { Ctx } from '../context.js';
import type { ImportedModelView } from '../../../engine/workbench/api.js';

/**
 * Setup's "Import a model" panel: a checkpoint directory on the engine's machine (a path field; in Electron also
 * the system's directory picker), opened by the engine, what it detected, and the model selected for What-if.
 */
export function ImportModelPanel({ ctx }: { ctx: Ctx }) {
  const [dir, setDir] = useState('');
  const [view, setView] = useState<ImportedModelView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const choose = ctx.api.chooseDirectory;
  const run = async (path: string) => {
    setBusy(true);
    setError(null);
    try {
      const v = await ctx.api.call('importModel', { dir: path.trim() });
      setView(v);
      await ctx.reloadModels();
      ctx.setQuery({ model: v.id });
      ctx.notify(`Imported ${v.dir} as ${v.id}`);
    } catch (e) {
      setView(null);
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const pick = async () => {
    const path = await choose!().catch((e: Error) => (setError(e.message), null));
    if (path) {
      setDir(path);
      await run(path);
    }
  };
  const broken = ctx.models.filter((m) => m.imported?.problem);
  return (
    <section className="panel" data-testid="import-model">
      <h2>Import a model</h2>
      <p className="muted">
        A Hugging Face checkpoint directory of a BERT, DistilBERT or RoBERTa sequence classifier: <code>config.json</code>,{' '}
        <code>model.safetensors</code> (or its shards with their index) and <code>tokenizer.json</code> or <code>vocab.txt</code>. It is
        kept in the workbench's list across restarts. Without a task of its own, What-if plans it (latency, memory) and measures accuracy on
        the file of "Your own data".
      </p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void run(dir);
        }}
      >
        <label htmlFor="import-model-dir">Directory</label>
        <input
          id="import-model-dir"
          data-testid="import-model-dir"
          className="own-data-path"
          value={dir}
          placeholder="/path/to/checkpoint"
          onChange={(e) => setDir(e.target.value)}
        />
        {choose ? (
          <button type="button" disabled={busy} data-testid="import-model-choose" onClick={() => void pick()}>
            Choose…
          </button>
        ) : null}
        <button type="submit" disabled={busy || dir.trim() === ''} data-testid="import-model-go">
          {busy ? 'Importing…' : 'Import'}
        </button>
      </form>
      {error && (
        <div className="error-box" role="alert" data-testid="import-model-error">
          {error}
        </div>
      )}
      {view && (
        <div data-testid="import-model-result">
          <p>
            ✓ <b>{view.id}</b> <span className="muted">from {view.dir}</span>
            {ctx.query.model === view.id ? <span className="muted"> — selected for What-if</span> : null}
          </p>
          <table className="list numbers">
            <tbody>
              <tr>
                <td>family</td>
                <td data-testid="import-model-family">
                  {view.family} ({view.architecture})
                </td>
              </tr>
              <tr>
                <td>shape</td>
                <td>
                  {view.layers} layers, {view.heads} heads, hidden {view.hidden}, FFN {view.ffn}
                </td>
              </tr>
              <tr>
                <td>labels</td>
                <td data-testid="import-model-labels">{view.labels.join(', ')}</td>
              </tr>
              <tr>
                <td>tokenizer</td>
                <td>
                  {view.tokenizer.kind}, at most {view.tokenizer.maxLength} tokens
                </td>
              </tr>
              <tr>
                <td>stored as</td>
                <td>{view.dtype.join(', ')}</td>
              </tr>
              <tr>
                <td>ignored</td>
                <td data-testid="import-model-ignored">{view.ignored.length ? view.ignored.join('; ') : 'nothing'}</td>
              </tr>
              <tr>
                <td>checksum</td>
                <td>
                  <code>{view.checksum}</code>
                </td>
              </tr>
              <tr>
                <td>accuracy on</td>
                <td>{view.task ?? (ctx.query.data ? <code>{ctx.query.data}</code> : 'a data file of yours (Your own data, below)')}</td>
              </tr>
            </tbody>
          </table>
        </div>
      )}
      {broken.length > 0 && (
        <ul className="error-box" data-testid="import-model-problems">
          {broken.map((m) => (
            <li key={m.id}>{m.imported!.problem}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
