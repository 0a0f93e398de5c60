import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { renderReport, REPORT_FORMATS, type ReportFormat } from '../../report/report.js';
import { loadSocProfiles } from '../../soc/load.js';
import { readBaseline } from '../../sweep/baseline.js';
import { DEFAULT_TOLERANCE, diffTable, regress, type Baseline, type Tolerance } from '../../sweep/regress.js';
import { CheckFailed } from '../check.js';
import { VERSION } from '../version.js';
import { plannerNames } from '../../families/bert/plan/planners.js';
import { DEFAULT_BITS } from '../../families/bert/shard-store.js';
import { ExperimentStore } from '../../store/db.js';
import { runSweep } from '../../sweep/sweep.js';
import { rowsWithoutEvents, sweepCsv, sweepTable } from '../../sweep/table.js';
import type { SweepRow, SweepSpec } from '../../sweep/types.js';
import { positiveInt } from '../options.js';
import { progressBar } from '../progress.js';

/** "100,200" or "100:1000:100" (from:to:step, inclusive) or a mix, as numbers. */
export function numberList(flag: string) {
  return (value: string): number[] => {
    const out: number[] = [];
    for (const part of value.split(',')) {
      const range = part.split(':').map(Number);
      if (range.some((x) => !Number.isFinite(x)) || range.length > 3 || part.trim() === '')
        throw new InvalidArgumentError(`${flag} takes numbers or from:to:step ranges separated by commas, got "${value}"`);
      if (range.length === 1) out.push(range[0]);
      else {
        const [from, to, step = 1] = range;
        if (!(step > 0) || to < from) throw new InvalidArgumentError(`${flag}: range "${part}" needs from <= to and a step > 0`);
        for (let x = from; x <= to + 1e-9; x += step) out.push(Number(x.toFixed(6)));
      }
    }
    return out;
  };
}

const list = (v: string) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Every planner the CLI knows, for `--planners all`. */
export const ALL_PLANNERS = plannerNames(DEFAULT_BITS);

interface SweepFlags {
  socs: string[];
  model: string;
  targetsMs: number[];
  buffersKb: number[];
  planners: string[];
  split: 'dev' | 'test';
  limit?: number;
  importance: string;
  seq: number;
  db?: string;
  json?: boolean;
  csv?: boolean;
}

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description(
      'run every SoC x target x buffer x planner: plan, execute in virtual time, score accuracy with the oracle; stores the sweep and prints its rows',
    )
    .requiredOption('--socs <ids>', 'SoC profile ids, comma-separated', list)
    .requiredOption('--model <dir>', 'checkpoint directory or shard store')
    .requiredOption('--targets-ms <list>', 'target latencies, ms: 100,200 or 50:500:50', numberList('--targets-ms'))
    .option('--buffers-kb <list>', 'preload buffer capacities, KB', numberList('--buffers-kb'), [400])
    .option('--planners <names>', `planners, comma-separated, or all (${ALL_PLANNERS.join(', ')})`, list, ['all'])
    .addOption(
      new Option('--split <split>', 'split the accuracy is measured on (importance is profiled on dev)')
        .choices(['dev', 'test'])
        .default('dev'),
    )
    .option('--limit <k>', 'first K examples of the split (and of dev for importance) only', positiveInt('--limit'))
    .option('--importance <method>', 'importance profile for sti, sti-nobuffer and optimal; profiled first when missing', 'sti:32/2')
    .option('--seq <tokens>', 'request length, tokens', positiveInt('--seq'), 128)
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print one JSON object: the sweep id, its spec and rows')
    .option('--csv', 'print the rows as CSV')
    .action(async (f: SweepFlags) => {
      const spec: SweepSpec = {
        model: f.model,
        socs: f.socs,
        targetsMs: f.targetsMs,
        buffersKb: f.buffersKb,
        planners: f.planners.includes('all') ? ALL_PLANNERS : f.planners,
        split: f.split,
        limit: f.limit,
        importance: f.importance,
        seq: f.seq,
      };
      const db = ExperimentStore.open(f.db);
      const bars = { importance: progressBar('importance profile', !f.json && !f.csv), sweep: progressBar('sweep', !f.json && !f.csv) };
      try {
        const sweep = await runSweep(spec, db, {
          onProgress: (done, total, stage) => {
            if (stage === 'sweep') bars.importance.stop();
            bars[stage].update(done, total);
          },
        });
        bars.sweep.stop();
        if (f.json) return console.log(JSON.stringify({ ...sweep, rows: rowsWithoutEvents(sweep.rows) }));
        if (f.csv) return void process.stdout.write(sweepCsv(sweep.rows));
        console.log(sweepTable(sweep.rows));
        console.log(`stored as sweep ${sweep.id} in ${db.path}; \`shardlab report ${sweep.id} --format html --out report.html\``);
      } finally {
        db.close();
      }
    });
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a stored sweep as a self-contained HTML report (charts inline, opens offline), or its raw rows as JSON or CSV')
    .argument('<sweep-id>', 'sweep id (shardlab sweeps lists them)', positiveInt('sweep id'))
    .addOption(new Option('--format <f>', 'report format').choices(REPORT_FORMATS).default('html'))
    .requiredOption('--out <file>', 'file to write')
    .option('--timeline-ms <t>', 'target whose timelines the HTML draws (default: the middle target)', Number)
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .action((id: number, f: { format: ReportFormat; out: string; timelineMs?: number; db?: string }) => {
      const sweep = withDb(f.db, (db) => db.getSweep<SweepSpec, SweepRow>(id));
      if (!sweep) throw new UserError(`no sweep ${id} in the experiment database; \`shardlab sweeps\` lists the stored ones`);
      if (f.timelineMs !== undefined && !sweep.spec.targetsMs.includes(f.timelineMs))
        throw new UserError(`--timeline-ms ${f.timelineMs}: the sweep's targets are ${sweep.spec.targetsMs.join(', ')}`);
      const profiles = loadSocProfiles().filter((p) => sweep.spec.socs.includes(p.id));
      writeOut(f.out, renderReport(sweep, f.format, { profiles, version: VERSION, timelineTargetMs: f.timelineMs }));
      console.log(`wrote ${f.out} (${f.format}, sweep ${id}, ${sweep.rowCount} rows)`);
    });
}

export function registerSweeps(program: Command): void {
  program
    .command('sweeps')
    .description('list the sweeps in the experiment store')
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print a JSON array')
    .action((f: { db?: string; json?: boolean }) => {
      const list = withDb(f.db, (db) => db.listSweeps<SweepSpec>());
      if (f.json) return console.log(JSON.stringify(list));
      if (list.length === 0) return console.log('no sweeps yet; run `shardlab sweep`');
      for (const s of list)
        console.log(
          `${String(s.id).padStart(4)}  ${s.createdAt}  ${s.task.padEnd(9)} ${s.spec.socs.join(',')}  ${s.rowCount} rows  ${s.spec.model}`,
        );
    });
}

interface RegressFlags {
  baseline: string;
  tolerance: Tolerance;
  model?: string;
  db?: string;
  json?: boolean;
}

export function parseTolerance(v: string): Tolerance {
  const t = { ...DEFAULT_TOLERANCE };
  for (const part of v.split(',')) {
    const [k, x] = part.split('=');
    if (!(k in t) || !(Number(x) >= 0))
      throw new InvalidArgumentError(`--tolerance takes accuracy=A,makespan=R,memory=R (A in accuracy fraction, R relative), got "${v}"`);
    t[k as keyof Tolerance] = Number(x);
  }
  return t;
}

export function registerRegress(program: Command): void {
  program
    .command('regress')
    .description('re-run a baseline sweep and fail (exit 1) with a diff table where accuracy, makespan, memory, a deadline or a plan moved')
    .requiredOption('--baseline <file|id>', "a report's JSON export, or a stored sweep id")
    .option(
      '--tolerance <t>',
      'accuracy=0.005,makespan=0.01,memory=0.01 (absolute accuracy fraction; relative makespan and memory)',
      parseTolerance,
      DEFAULT_TOLERANCE,
    )
    .option('--model <dir>', "the model to re-run (default: the baseline's)")
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print one JSON object')
    .action(async (f: RegressFlags) => {
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
    });
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
