import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import { renderReport, type ReportFormat } from '../../report/report.js';
import { loadSocProfiles } from '../../soc/load.js';
import { readBaseline } from '../../sweep/baseline.js';
import { diffTable, regress, type Baseline, type Tolerance } from '../../sweep/regress.js';
import { CheckFailed } from '../check.js';
import { VERSION } from '../version.js';
import { familyOf } from '../../families/index.js';
import { ExperimentStore } from '../../store/db.js';
import { runSweep } from '../../sweep/sweep.js';
import { rowsWithoutEvents, streamingTable, sweepCsv } from '../../sweep/table.js';
import type { SweepRow, SweepSpec } from '../../sweep/types.js';
import { progressBar } from '../../core/progress.js';

/** The sweep's spec as flags (`--planners all` included), the request length optional. */
export interface SweepFlags extends Omit<SweepSpec, 'seq'> {
  seq?: number;
  db?: string;
  json?: boolean;
  csv?: boolean;
}

/** shardlab sweep: every SoC x target x buffer x planner, stored and printed. */
export async function runSweepCommand(f: SweepFlags): Promise<void> {
  const spec: SweepSpec = {
    model: f.model,
    socs: f.socs,
    targetsMs: f.targetsMs,
    buffersKb: f.buffersKb,
    planners: f.planners,
    split: f.split,
    limit: f.limit,
    importance: f.importance,
    seq: f.seq ?? familyOf(f.model).defaultSeq,
  };
  const db = ExperimentStore.open(f.db);
  const people = !f.json && !f.csv;
  const bars = { importance: progressBar('importance profile', people), sweep: progressBar('sweep', people) };
  const table = streamingTable(
    f.planners.includes('all')
      ? {
          ...spec,
          planners: familyOf(f.model)
            .planners()
            .map((p) => p.name),
        }
      : spec,
  );
  let printed = 0;
  try {
    const sweep = await runSweep(spec, db, {
      onProgress: (done, total, stage) => {
        if (stage === 'sweep') bars.importance.stop();
        bars[stage].update(done, total);
      },
      // The table a row at a time as the rows land; JSON and CSV wait for the stored sweep (one document).
      onRow: (r) => {
        if (!people) return;
        // On a terminal the row takes the progress bar's line and the bar is redrawn below it. The bar restores
        // the cursor it saved at its start when it stops, so the cursor is saved again below each row.
        if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
        if (printed++ === 0) console.log(table.header);
        console.log(table.row(r));
        if (process.stderr.isTTY) process.stderr.write('\x1b7');
      },
    });
    bars.sweep.stop();
    if (f.json) return console.log(JSON.stringify({ ...sweep, rows: rowsWithoutEvents(sweep.rows) }));
    if (f.csv) return void process.stdout.write(sweepCsv(sweep.rows));
    console.log(`stored as sweep ${sweep.id} in ${db.path}; \`shardlab report ${sweep.id}\` writes its HTML report`);
  } finally {
    bars.importance.stop();
    bars.sweep.stop();
    db.close();
  }
}

export interface ReportFlags {
  format: ReportFormat;
  out?: string;
  timelineMs?: number;
  db?: string;
}

/** shardlab report ID: a stored sweep as an HTML report, or its rows as JSON or CSV. */
export function runReport(id: number, f: ReportFlags): void {
  const sweep = withDb(f.db, (db) => db.getSweep<SweepSpec, SweepRow>(id));
  if (!sweep) throw new UserError(`no sweep ${id} in the experiment database; \`shardlab sweeps\` lists the stored ones`);
  if (f.timelineMs !== undefined && !sweep.spec.targetsMs.includes(f.timelineMs))
    throw new UserError(`--timeline-ms ${f.timelineMs}: the sweep's targets are ${sweep.spec.targetsMs.join(', ')}`);
  const profiles = loadSocProfiles().filter((p) => sweep.spec.socs.includes(p.id));
  const out = f.out ?? `sweep-${id}.${f.format}`;
  writeOut(out, renderReport(sweep, f.format, { profiles, version: VERSION, timelineTargetMs: f.timelineMs }));
  console.log(`wrote ${resolve(out)} (${f.format}, sweep ${id}, ${sweep.rowCount} rows)`);
}

/** shardlab sweeps: the stored sweeps. */
export function runSweeps(f: { db?: string; json?: boolean }): void {
  const list = withDb(f.db, (db) => db.listSweeps<SweepSpec>());
  if (f.json) return console.log(JSON.stringify(list));
  if (list.length === 0) return console.log('no sweeps yet; run `shardlab sweep`');
  for (const s of list)
    console.log(
      `${String(s.id).padStart(4)}  ${s.createdAt}  ${s.task.padEnd(9)} ${s.spec.socs.join(',')}  ${s.rowCount} rows  ${s.spec.model}`,
    );
}

export interface RegressFlags {
  baseline: string;
  tolerance: Tolerance;
  model?: string;
  db?: string;
  json?: boolean;
}

/** shardlab regress: re-run a baseline sweep; exit 1 with a diff table where it moved. */
export async function runRegress(f: RegressFlags): Promise<void> {
  const db = ExperimentStore.open(f.db);
  try {
    let baseline: Baseline | undefined;
    if (/^\d+$/.test(f.baseline)) baseline = db.getSweep<SweepSpec, SweepRow>(Number(f.baseline));
    else baseline = readBaseline(f.baseline);
    if (!baseline) throw new UserError(`--baseline ${f.baseline}: no such sweep in the experiment database`);
    const bar = progressBar('regress', !f.json);
    const r = await regress(baseline, db, f.tolerance, { model: f.model, onProgress: (d, t) => bar.update(d, t) });
    bar.stop();
    const modelChanged = r.current.modelChecksum !== baseline.modelChecksum;
    const out = {
      passed: r.diffs.length === 0,
      sweepId: r.current.id,
      rows: r.current.rowCount,
      modelChanged,
      tolerance: f.tolerance,
      diffs: r.diffs,
    };
    if (f.json) console.log(JSON.stringify(out));
    else {
      if (modelChanged) console.log(`note: the model's checksum differs from the baseline's (${baseline.modelChecksum})`);
      if (out.passed)
        console.log(`regress: ${r.current.rowCount} rows match the baseline within tolerance (re-run stored as sweep ${r.current.id})`);
      else
        console.log(
          `regress: ${r.diffs.length} difference(s) beyond tolerance (re-run stored as sweep ${r.current.id})\n${diffTable(r.diffs)}`,
        );
    }
    if (!out.passed) throw new CheckFailed('regression');
  } finally {
    db.close();
  }
}

function withDb<T>(path: string | undefined, f: (db: ExperimentStore) => T): T {
  const db = ExperimentStore.open(path);
  try {
    return f(db);
  } finally {
    db.close();
  }
}

function writeOut(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new UserError(`--out ${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pick a writable path`);
  }
}
