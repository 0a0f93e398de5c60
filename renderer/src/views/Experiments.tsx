import { useState } from 'react';
import type { SweepView } from '../../../engine/workbench/api.js';
import { AccuracyChart } from '../components/charts.js';
import { Empty, ErrorBox } from '../components/feedback.js';
import type { Ctx } from '../context.js';
import { download } from '../download.js';
import { Swatch } from '../components/charts.js';
import { plannerStyle } from '../../../engine/report/palette.js';
import { fmtAcc, fmtBytes, fmtMs, fmtPct } from '../format.js';
import { describeSweep, examplesOf, openRow, useSweeps } from '../sweeps.js';

export function ExperimentsView({ ctx }: { ctx: Ctx }) {
  const { list, error, reload } = useSweeps(ctx);
  const [checked, setChecked] = useState<number[]>([]);
  const [compare, setCompare] = useState<SweepView[]>([]);
  const [detail, setDetail] = useState<SweepView | null>(null);
  const [row, setRow] = useState(0);
  const [confirm, setConfirm] = useState<number | null>(null);

  const fetchSweeps = async (ids: number[]) => {
    try {
      const got = await Promise.all(ids.map((id) => ctx.api.call('getSweep', { id })));
      if (got.length === 2) setCompare(got);
      else {
        setDetail(got[0]);
        setRow(0);
      }
    } catch (e) {
      ctx.notify((e as Error).message, 'error');
    }
  };
  const doExport = async (id: number, format: 'html' | 'json' | 'csv' | 'trace') => {
    try {
      download(await ctx.api.call('exportSweep', { id, format, ...(format === 'trace' ? { row } : {}) }));
    } catch (e) {
      ctx.notify((e as Error).message, 'error');
    }
  };
  const doDelete = async (id: number) => {
    try {
      await ctx.api.call('deleteSweep', { id });
      ctx.notify(`Deleted sweep #${id}`);
      setChecked((c) => c.filter((x) => x !== id));
      setCompare((o) => (o.some((s) => s.id === id) ? [] : o));
      setDetail((d) => (d?.id === id ? null : d));
      setConfirm(null);
      await reload();
    } catch (e) {
      ctx.notify((e as Error).message, 'error');
    }
  };

  const one = detail;
  return (
    <div className="view experiments">
      <h1>Experiments</h1>
      {error && <ErrorBox text={error} />}
      {!list && !error && <Empty title="Loading the experiment store…" />}
      {list && list.length === 0 && (
        <Empty title="No experiments yet">
          Sweeps you run appear here. <button onClick={() => ctx.go('tradeoffs')}>Start a sweep in Tradeoffs</button>
        </Empty>
      )}
      {list && list.length > 0 && (
        <section className="panel">
          <table className="list" data-testid="sweep-list">
            <thead>
              <tr>
                <th />
                <th>sweep</th>
                <th>when</th>
                <th>task</th>
                <th>targets</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.id} data-sweep={s.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`select sweep ${s.id}`}
                      checked={checked.includes(s.id)}
                      onChange={(e) => setChecked(e.target.checked ? [...checked, s.id].slice(-2) : checked.filter((x) => x !== s.id))}
                    />
                  </td>
                  <td>{describeSweep(s)}</td>
                  <td>{new Date(s.createdAt).toLocaleString()}</td>
                  <td>{s.task}</td>
                  <td>{s.spec.targetsMs.join(', ')} ms</td>
                  <td className="actions">
                    <button className="small" onClick={() => fetchSweeps([s.id])}>
                      Open
                    </button>
                    {confirm === s.id ? (
                      <>
                        <button className="small danger" onClick={() => doDelete(s.id)} data-testid="confirm-delete">
                          Delete #{s.id} for good
                        </button>
                        <button className="small ghost" onClick={() => setConfirm(null)}>
                          Keep
                        </button>
                      </>
                    ) : (
                      <button className="small ghost" onClick={() => setConfirm(s.id)}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="row">
            <button disabled={checked.length !== 2} onClick={() => fetchSweeps(checked)} data-testid="compare">
              Compare the two selected
            </button>
            <span className="muted">Tick two sweeps to overlay their curves.</span>
          </div>
        </section>
      )}
      {compare.length === 2 && (
        <section className="panel" data-testid="compare-panel">
          <h2>
            Sweep #{compare[0].id} against #{compare[1].id}
          </h2>
          <p className="muted">
            Lines of #{compare[1].id} are dotted; filled markers met their deadline, hollow ones missed it. Click a point to open its plan.
          </p>
          <AccuracyChart sweeps={compare} onOpen={(p) => openRow(ctx, p.row, p.sweep)} />
        </section>
      )}
      {one && (
        <section className="panel" data-testid="sweep-detail">
          <h2>{describeSweep(one)}</h2>
          <div className="row">
            <button onClick={() => doExport(one.id, 'html')} data-testid="export-html">
              Export HTML report
            </button>
            <button onClick={() => doExport(one.id, 'json')} data-testid="export-json">
              JSON
            </button>
            <button onClick={() => doExport(one.id, 'csv')} data-testid="export-csv">
              CSV
            </button>
            <button onClick={() => doExport(one.id, 'trace')} data-testid="export-trace">
              Chrome trace of row {row}
            </button>
          </div>
          <table className="list rows">
            <thead>
              <tr>
                <th>row</th>
                <th>soc</th>
                <th>planner</th>
                <th>target</th>
                <th>buffer</th>
                <th>submodel</th>
                <th>makespan</th>
                <th>deadline</th>
                <th>stall</th>
                <th>accuracy (95 % interval)</th>
                <th>preload</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {one.rows.map((r, i) => {
                const n = examplesOf(r, one);
                return (
                  <tr key={i} className={i === row ? 'selected' : ''} onClick={() => setRow(i)} data-row={i}>
                    <td>{i}</td>
                    <td>{r.soc}</td>
                    <td>
                      <Swatch style={plannerStyle(r.planner)} met={r.deadlineMet} /> {r.planner}
                    </td>
                    <td>{r.targetMs} ms</td>
                    <td>{r.bufferKb} KB</td>
                    <td>
                      {r.layers}×{r.slices}
                    </td>
                    <td className={r.deadlineMet ? '' : 'bad-text'}>{fmtMs(r.makespanMs)}</td>
                    <td className={r.deadlineMet ? 'good-text' : 'bad-text'}>{r.deadlineMet ? 'met' : 'missed'}</td>
                    <td>{fmtMs(r.stallMs)}</td>
                    <td>{n ? fmtAcc(r.accuracy, n) : `${fmtPct(r.accuracy)} (count unknown)`}</td>
                    <td className={r.withinBudget ? '' : 'bad-text'} title={r.withinBudget ? '' : `over the ${r.bufferKb} KB buffer`}>
                      {fmtBytes(r.persistentBytes)}
                    </td>
                    <td>
                      <button
                        className="small"
                        data-testid="open-row"
                        onClick={(e) => {
                          e.stopPropagation();
                          openRow(ctx, r, one);
                        }}
                      >
                        Open plan
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
