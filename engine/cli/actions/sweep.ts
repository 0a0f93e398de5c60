import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import { renderReport, type ReportFormat } from '../../report/report.js';
import { loadSocProfiles } from '../../soc/load.js';
import { readAnyBaseline, type AnyBaseline } from '../../sweep/baseline.js';
import { DEFAULT_BUFFER_KB } from '../../pipeline/plan.js';
import { DEFAULT_IMPORTANCE } from '../defaults.js';
import { rwkvSweeps } from '../../sweep/rwkv.js';
import { regressRwkv, rwkvDiffTable, type RwkvBaseline } from '../../sweep/rwkv-regress.js';
import { rwkvSweepCsv, rwkvSweepTable } from '../../sweep/rwkv-table.js';
import { isRwkvSweep, type RwkvSweepSpec } from '../../sweep/rwkv-types.js';
import { diffTable, regress, type Baseline, type Tolerance } from '../../sweep/regress.js';
import { CheckFailed } from '../check.js';
import { VERSION } from '../version.js';
import { familyOf } from '../../families/index.js';
import { ExperimentStore } from '../../store/db.js';
import type { Sweep, SweepSpec } from '../../sweep/types.js';
import { progressBar } from '../../core/progress.js';
import { sweepAndPrint, type SweepFlags } from './sweep-run.js';

export type { SweepFlags } from './sweep-run.js';

/** Flags one family takes and the other refuses, each with what to use instead. */
const BERT_ONLY: [keyof SweepFlags, string, string][] = [
  ['targetsMs', '--targets-ms', "--token-ms for the planner's per-token latency targets"],
  ['buffersKb', '--buffers-kb', '--memory-mb for memory budgets'],
  ['planners', '--planners', '--settings (the baselines and planner)'],
  ['importance', '--importance', 'nothing: RWKV planning needs no importance profile'],
  ['seq', '--seq', 'nothing: RWKV generates token by token'],
  ['data', '--data', 'nothing: RWKV sweeps measure perplexity on held-out English'],
];
const RWKV_ONLY: [keyof SweepFlags, string][] = [
  ['memoryMb', '--memory-mb'],
  ['settings', '--settings'],
  ['tokenMs', '--token-ms'],
  ['runTokens', '--run-tokens'],
  ['measure', '--measure'],
  ['prompt', '--prompt'],
];

/** shardlab sweep: every SoC x target x buffer x planner (BERT) or SoC x memory budget x setting (RWKV), stored and printed. */
export async function runSweepCommand(f: SweepFlags): Promise<void> {
  if (f.resume !== undefined) return (await import('./queue.js')).resumeQueuedSweep(f.resume, f);
  if (!f.model || !f.socs) throw new UserError('a sweep needs --model and --socs (or --resume ID to resume a queued sweep)');
  if (familyOf(f.model).id === 'rwkv') {
    if (f.queue) throw new UserError(`--queue: RWKV sweeps run on one machine only (${f.model} is an RWKV model); drop --queue`);
    return runRwkvSweepCommand({ ...f, model: f.model, socs: f.socs });
  }
  for (const [key, flag] of RWKV_ONLY)
    if (f[key] !== undefined)
      throw new UserError(
        `${flag} is for RWKV models; ${f.model} is a BERT model: sweep it with --targets-ms, --buffers-kb and --planners`,
      );
  if (!f.targetsMs) throw new UserError(`a BERT sweep needs --targets-ms: target latencies in ms, e.g. --targets-ms 40,120 or 20:140:20`);
  const spec: SweepSpec = {
    model: f.model,
    socs: f.socs,
    targetsMs: f.targetsMs,
    buffersKb: f.buffersKb ?? [DEFAULT_BUFFER_KB],
    planners: f.planners ?? ['all'],
    split: f.split ?? 'dev',
    limit: f.limit,
    importance: f.importance ?? DEFAULT_IMPORTANCE,
    seq: f.seq ?? familyOf(f.model).defaultSeq,
    ...(f.data !== undefined && { data: f.data }),
  };
  if (f.queue && f.data !== undefined)
    throw new UserError(
      "--data: queued sweeps measure on the model's task on every worker; sweep your own data on this machine (drop --queue)",
    );
  if (f.queue) return (await import('./queue.js')).submitQueuedSweep(spec, f.queue, f);
  const db = ExperimentStore.open(f.db);
  try {
    await sweepAndPrint(spec, db, f);
  } finally {
    db.close();
  }
}

/** shardlab sweep on an RWKV model directory: every SoC x memory budget x setting. */
async function runRwkvSweepCommand(f: SweepFlags & { model: string; socs: string[] }): Promise<void> {
  const sweeps = await rwkvSweeps();
  for (const [key, flag, instead] of BERT_ONLY)
    if (f[key] !== undefined) throw new UserError(`${flag} is for BERT models; ${f.model} is an RWKV model: use ${instead}`);
  if (f.split === 'dev')
    throw new UserError('--split dev: an RWKV sweep measures quality on the test split (the planner plans on it); drop --split');
  if (!f.memoryMb) throw new UserError('an RWKV sweep needs --memory-mb: memory budgets in MiB, e.g. --memory-mb 4,8,16');
  const settings = f.settings ?? [...sweeps.settings];
  const spec: RwkvSweepSpec = {
    family: 'rwkv',
    model: f.model,
    socs: f.socs,
    memoryMiB: f.memoryMb,
    tokenMs: f.tokenMs ?? [],
    settings,
    split: 'test',
    limit: f.limit ?? sweeps.limit,
    measure: !!f.measure,
    runTokens: f.runTokens ?? sweeps.runTokens,
    prompt: f.prompt ?? sweeps.prompt,
  };
  sweeps.check(spec);
  const db = ExperimentStore.open(f.db);
  const people = !f.json && !f.csv;
  const bars = { grid: progressBar('grid quality', people), sweep: progressBar('sweep', people) };
  try {
    const sweep = await sweeps.run(spec, db, {
      onProgress: (done, total, stage) => {
        if (stage === 'sweep') bars.grid.stop();
        bars[stage].update(done, total);
      },
    });
    bars.sweep.stop();
    if (f.json) return console.log(JSON.stringify(sweep));
    if (f.csv) return void process.stdout.write(rwkvSweepCsv(sweep.rows));
    console.log(rwkvSweepTable(sweep.rows));
    if (!spec.measure && sweep.rows.some((r) => r.perplexity === undefined))
      console.log('some settings have no quality in the experiment store yet: sweep with --measure to measure them');
    console.log(`stored as sweep ${sweep.id} in ${db.path}; \`shardlab report ${sweep.id}\` writes its HTML report`);
  } finally {
    bars.grid.stop();
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
export async function runReport(id: number, f: ReportFlags): Promise<void> {
  const stored = withDb(f.db, (db) => db.getSweep<SweepSpec | RwkvSweepSpec, unknown>(id));
  if (!stored) throw new UserError(`no sweep ${id} in the experiment database; \`shardlab sweeps\` lists the stored ones`);
  if (isRwkvSweep(stored)) {
    if (f.timelineMs !== undefined)
      throw new UserError('--timeline-ms: an RWKV sweep has no latency targets to draw timelines at; drop it');
    const sweep = { ...stored, rows: (await rwkvSweeps()).rowsOf(stored.rows) };
    const profiles = loadSocProfiles().filter((p) => sweep.spec.socs.includes(p.id));
    const out = f.out ?? `sweep-${id}.${f.format}`;
    writeOut(out, renderReport(sweep, f.format, { profiles, version: VERSION }));
    return console.log(`wrote ${resolve(out)} (${f.format}, sweep ${id}, ${sweep.rowCount} rows)`);
  }
  const sweep = stored as Sweep;
  if (f.timelineMs !== undefined && !sweep.spec.targetsMs.includes(f.timelineMs))
    throw new UserError(`--timeline-ms ${f.timelineMs}: the sweep's targets are ${sweep.spec.targetsMs.join(', ')}`);
  const profiles = loadSocProfiles().filter((p) => sweep.spec.socs.includes(p.id));
  const out = f.out ?? `sweep-${id}.${f.format}`;
  writeOut(out, renderReport(sweep, f.format, { profiles, version: VERSION, timelineTargetMs: f.timelineMs }));
  console.log(`wrote ${resolve(out)} (${f.format}, sweep ${id}, ${sweep.rowCount} rows)`);
}

/** shardlab sweeps: the stored sweeps, and the queued ones not stored yet with their progress. */
export async function runSweeps(f: { db?: string; json?: boolean }): Promise<void> {
  const db = ExperimentStore.open(f.db);
  try {
    const list = db.listSweeps<SweepSpec>();
    if (f.json) return console.log(JSON.stringify(list));
    const queued = db.listQueuedSweeps().length > 0 ? await (await import('./queue.js')).queuedSweepLines(db) : [];
    for (const line of queued) console.log(line);
    if (list.length === 0 && queued.length === 0) return console.log('no sweeps yet; run `shardlab sweep`');
    for (const s of list)
      console.log(
        `${String(s.id).padStart(4)}  ${s.createdAt}  ${s.task.padEnd(9)} ${s.spec.socs.join(',')}  ${s.rowCount} rows  ${s.spec.model}`,
      );
  } finally {
    db.close();
  }
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
    let any: AnyBaseline | undefined;
    if (/^\d+$/.test(f.baseline)) {
      const stored = db.getSweep<SweepSpec | RwkvSweepSpec, unknown>(Number(f.baseline));
      if (stored)
        any = isRwkvSweep(stored)
          ? { family: 'rwkv', baseline: { ...stored, rows: (await rwkvSweeps()).rowsOf(stored.rows) } }
          : { family: 'bert', baseline: stored as Sweep };
    } else any = readAnyBaseline(f.baseline);
    if (!any) throw new UserError(`--baseline ${f.baseline}: no such sweep in the experiment database`);
    if (any.family === 'rwkv') return await regressRwkvCommand(any.baseline, db, f);
    const baseline: Baseline = any.baseline;
    const bar = progressBar('regress', !f.json);
    const r = await regress(baseline, db, f.tolerance, { model: f.model, onProgress: (d, t) => bar.update(d, t) });
    bar.stop();
    printRegress(r.current, r.diffs, baseline.modelChecksum, f, () => diffTable(r.diffs));
  } finally {
    db.close();
  }
}

async function regressRwkvCommand(baseline: RwkvBaseline, db: ExperimentStore, f: RegressFlags): Promise<void> {
  if (f.model && familyOf(f.model).id !== 'rwkv')
    throw new UserError(`--model ${f.model}: the baseline is an RWKV sweep; give an RWKV model directory (or drop --model)`);
  const bar = progressBar('regress', !f.json);
  let r: Awaited<ReturnType<typeof regressRwkv>>;
  try {
    r = await regressRwkv(baseline, db, f.tolerance, {
      model: f.model,
      onProgress: (d, t, stage) => stage === 'sweep' && bar.update(d, t),
    });
  } finally {
    bar.stop();
  }
  printRegress(r.current, r.diffs, baseline.modelChecksum, f, () => rwkvDiffTable(r.diffs));
}

/** A regression's outcome, as JSON or in words; a difference beyond tolerance is a failed check (exit 1). */
function printRegress(
  current: { id: number; rowCount: number; modelChecksum: string },
  diffs: unknown[],
  baselineChecksum: string,
  f: RegressFlags,
  table: () => string,
): void {
  const modelChanged = current.modelChecksum !== baselineChecksum;
  const passed = diffs.length === 0;
  if (f.json)
    console.log(JSON.stringify({ passed, sweepId: current.id, rows: current.rowCount, modelChanged, tolerance: f.tolerance, diffs }));
  else {
    if (modelChanged) console.log(`note: the model's checksum differs from the baseline's (${baselineChecksum})`);
    if (passed) console.log(`regress: ${current.rowCount} rows match the baseline within tolerance (re-run stored as sweep ${current.id})`);
    else console.log(`regress: ${diffs.length} difference(s) beyond tolerance (re-run stored as sweep ${current.id})\n${table()}`);
  }
  if (!passed) throw new CheckFailed('regression');
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
