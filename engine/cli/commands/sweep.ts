import { InvalidArgumentError, type Command } from 'commander';
import { plannerNames } from '../../plan/planners.js';
import { DEFAULT_BITS } from '../../shard/store.js';
import { ExperimentStore } from '../../store/db.js';
import { runSweep } from '../../sweep/sweep.js';
import { sweepCsv, sweepTable } from '../../sweep/table.js';
import type { SweepSpec } from '../../sweep/types.js';
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
    .option(
      '--split <split>',
      'split the accuracy is measured on: dev | test (importance is profiled on dev)',
      (v: string) => {
        if (v !== 'dev' && v !== 'test') throw new InvalidArgumentError(`--split must be dev or test, got "${v}"`);
        return v;
      },
      'dev',
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
        if (f.json) return console.log(JSON.stringify({ ...sweep, rows: sweep.rows.map(({ events: _e, ...r }) => r) }));
        if (f.csv) return void process.stdout.write(sweepCsv(sweep.rows));
        console.log(sweepTable(sweep.rows));
        console.log(`stored as sweep ${sweep.id} in ${db.path}; \`shardlab report ${sweep.id} --format html --out report.html\``);
      } finally {
        db.close();
      }
    });
}
