import { useState } from 'react';
import type { Ctx } from '../context.js';
import type { DataCheckView } from '../../../engine/workbench/api.js';

/**
 * Setup's "Your own data" panel: a path to a JSONL or CSV file on the engine's machine (browser mode has no
 * file picker that yields a path), checked by the engine against the selected model's labels.
 */
export function OwnDataPanel({ ctx }: { ctx: Ctx }) {
  const [path, setPath] = useState('');
  const [check, setCheck] = useState<DataCheckView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setCheck(await ctx.api.call('checkData', { path: path.trim(), model: ctx.query.model }));
    } catch (e) {
      setCheck(null);
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel" data-testid="own-data">
      <h2>Your own data</h2>
      <p data-testid="own-data-current">
        Accuracy (What-if, planners, importance, live runs, Tradeoffs sweeps) is measured on{' '}
        {ctx.query.data ? (
          <>
            <code>{ctx.query.data}</code>{' '}
            <button type="button" className="ghost" data-testid="own-data-clear" onClick={() => ctx.setQuery({ data: '' })}>
              Back to the model's task
            </button>
          </>
        ) : (
          "the model's own task"
        )}
        .
      </p>
      <p className="muted">
        A JSONL or CSV file with <code>text</code> and <code>label</code> columns, or a sentence pair (<code>text_a</code>/
        <code>text_b</code>, <code>sentence1</code>/<code>sentence2</code>, <code>question1</code>/<code>question2</code>) and{' '}
        <code>label</code>. Rows go to dev or test by a <code>split</code> column, or else by a hash of their text (half each). Measure on
        it with <code>shardlab eval --data FILE</code> (also accuracy and profile).
      </p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <label htmlFor="own-data-path">File path</label>
        <input
          id="own-data-path"
          data-testid="own-data-path"
          className="own-data-path"
          value={path}
          placeholder="/path/to/data.csv"
          onChange={(e) => setPath(e.target.value)}
        />
        <button type="submit" disabled={busy || path.trim() === ''} data-testid="own-data-check">
          {busy ? 'Checking…' : 'Check'}
        </button>
      </form>
      {error && (
        <div className="error-box" role="alert">
          {error}
        </div>
      )}
      {check && (
        <div data-testid="own-data-result">
          <p>
            {check.ok ? '✓ usable with ' : '✗ not usable with '}
            {ctx.query.model}
            {check.task ? <span className="muted"> — stored as {check.task}</span> : null}{' '}
            {check.ok && ctx.query.data !== check.file ? (
              <button type="button" data-testid="own-data-use" onClick={() => ctx.setQuery({ data: check.file })}>
                Measure accuracy on it
              </button>
            ) : null}
          </p>
          {check.format && (
            <table className="list numbers">
              <tbody>
                <tr>
                  <td>format</td>
                  <td>{check.format}</td>
                </tr>
                <tr>
                  <td>rows</td>
                  <td>{check.rows}</td>
                </tr>
                <tr>
                  <td>columns</td>
                  <td>{check.columns.join(', ')}</td>
                </tr>
                <tr>
                  <td>texts</td>
                  <td>
                    {check.kind === 'pair' ? `sentence pairs (${check.textColumns.join(' + ')})` : `single (${check.textColumns[0]})`}
                  </td>
                </tr>
                <tr>
                  <td>labels</td>
                  <td>
                    {check.labels.join(', ')}
                    {check.modelLabels ? <span className="muted"> (model: {check.modelLabels.join(', ')})</span> : null}
                  </td>
                </tr>
                <tr>
                  <td>split</td>
                  <td>
                    dev {check.splits.dev}, test {check.splits.test}
                    {check.splits.train ? `, train ${check.splits.train} (not measured on)` : ''}{' '}
                    <span className="muted">({check.splitFrom === 'column' ? 'from the split column' : 'by a hash of each text'})</span>
                  </td>
                </tr>
              </tbody>
            </table>
          )}
          {check.problems.length > 0 && (
            <ul className="error-box" data-testid="own-data-problems">
              {check.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
