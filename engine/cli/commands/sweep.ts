import { InvalidArgumentError, Option, type Command } from 'commander';
import { resolveModel } from '../model-arg.js';
import { expandPlanners, FAMILIES } from '../../families/index.js';
import { REPORT_FORMATS } from '../../report/report.js';
import type { Tolerance } from '../../sweep/regress.js';
import type { RegressFlags, ReportFlags, SweepFlags } from '../actions/sweep.js';
import type { WorkerFlags } from '../actions/worker.js';
import { DEFAULT_BITS, DEFAULT_IMPORTANCE, DEFAULT_TOLERANCE } from '../defaults.js';
import { DEFAULT_BUFFER_KB } from '../../pipeline/plan.js';
import { positiveInt } from '../options.js';

/** RWKV sweep defaults, copied from engine/sweep/rwkv.ts (which loads the engine when imported); test/rwkv-sweep.test.ts checks them. */
export const RWKV_LIMIT = 8;
export const RWKV_RUN_TOKENS_DEFAULT = 16;
export const RWKV_SETTING_NAMES = [
  'dense-fp16',
  'dense-int8',
  'dense-streamed',
  'lowrank',
  'sparse-ffn',
  'emb-cache',
  'cluster-head',
  'all',
  'all-int8',
  'planner',
] as const;

function nonNegativeInt(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} takes an integer >= 0, got "${value}"`);
    return Number(value);
  };
}

/**
 * "100,200" or "100:1000:100" (from:to:step, inclusive) or a mix, as numbers (decimals welcome);
 * every value above zero, or with `zero` allowed, at least zero.
 */
export function numberList(flag: string, { zero = false } = {}) {
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
    const bad = out.find((x) => (zero ? x < 0 : x <= 0));
    if (bad !== undefined) throw new InvalidArgumentError(`${flag} takes numbers ${zero ? '>= 0' : 'above 0'}, got ${bad} in "${value}"`);
    return out;
  };
}

const list = (v: string) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** The families' planners with each bitwidth placeholder B spelled out for the default bitwidths: what `--planners all` runs. */
function plannerList(): string[] {
  return [...new Set(FAMILIES.flatMap((f) => expandPlanners(f.planners(), DEFAULT_BITS)))];
}

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description(
      'BERT: run every SoC x target x buffer x planner (plan, execute in virtual time, score accuracy with the oracle). RWKV: every SoC x memory budget x setting (predicted speed and memory, quality, a real run in virtual time, the planner per budget). Stores the sweep and prints its rows',
    )
    .option('--socs <ids>', 'SoC profile ids, comma-separated (required unless --resume)', list)
    .option('--model <dir>', 'checkpoint directory or shard store, or a bundled model by name (required unless --resume)', resolveModel)
    .option('--targets-ms <list>', 'BERT (required): target latencies, ms: 100,200 or 50:500:50', numberList('--targets-ms'))
    .option(
      '--buffers-kb <list>',
      `BERT: preload buffer capacities, KB (default: ${DEFAULT_BUFFER_KB})`,
      numberList('--buffers-kb', { zero: true }),
    )
    .option('--planners <names>', `BERT: planners, comma-separated, or all (${plannerList().join(', ')}) (default: all)`, list)
    .addOption(
      new Option(
        '--split <split>',
        'BERT: split the accuracy is measured on (importance is profiled on dev) (default: dev); RWKV: test only',
      ).choices(['dev', 'test']),
    )
    .option(
      '--limit <k>',
      `a fixed stratified sample: BERT, K examples of the split (and of dev for importance); RWKV, K test passages for quality (default: ${RWKV_LIMIT})`,
      positiveInt('--limit'),
    )
    .option(
      '--importance <method>',
      `BERT: importance profile for the ranking planners (${FAMILIES.flatMap((f) => f.planners().filter((p) => p.ranks))
        .map((p) => p.name)
        .join(', ')}); profiled first when missing (default: ${DEFAULT_IMPORTANCE})`,
    )
    .option('--seq <tokens>', "BERT: request length, tokens (default: the model family's, 128 for bert)", positiveInt('--seq'))
    .option(
      '--data <file>',
      'BERT: your own labelled data (JSONL or CSV, see the README) to measure accuracy on instead of the task; not with --queue',
    )
    .option('--memory-mb <list>', 'RWKV (required): memory budgets, MiB: 4,8,16 or 2:16:2', numberList('--memory-mb'))
    .option(
      '--settings <names>',
      `RWKV: settings, comma-separated, of ${RWKV_SETTING_NAMES.join(', ')} (all is the paper's combination; default: every one)`,
      list,
    )
    .option(
      '--token-ms <list>',
      "RWKV: the planner's per-token latency targets, ms (default: none, the best quality that fits)",
      numberList('--token-ms'),
    )
    .option(
      '--run-tokens <n>',
      `RWKV: tokens each setting generates for real on each SoC, in virtual time; 0 predicts only (default: ${RWKV_RUN_TOKENS_DEFAULT})`,
      nonNegativeInt('--run-tokens'),
    )
    .option('--prompt <text>', "RWKV: the real runs' prompt (default: the paper's speed prompt, as shardlab run)")
    .option('--measure', "RWKV: measure quality the experiment store lacks (the planner's whole grid: minutes); else cached quality only")
    .option(
      '--queue <url>',
      "BERT: evaluate the uncached configurations on the workers of a BullMQ queue on Redis, redis://HOST:PORT[/DB] (shardlab worker); answers land in this machine's store",
    )
    .option(
      '--resume <id>',
      'resume a queued sweep that was stopped (shardlab sweeps lists them): only what is not stored yet is queued',
      positiveInt('--resume'),
    )
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print one JSON object: the sweep id, its spec and rows')
    .option('--csv', 'print the rows as CSV')
    .action(async (f: SweepFlags) => (await import('../actions/sweep.js')).runSweepCommand(f));
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a stored sweep as a self-contained HTML report (charts inline, opens offline), or its raw rows as JSON or CSV')
    .argument('<sweep-id>', 'sweep id (shardlab sweeps lists them)', positiveInt('sweep id'))
    .addOption(new Option('--format <f>', 'report format').choices(REPORT_FORMATS).default('html'))
    .option('--out <file>', 'file to write (default: sweep-ID.html, .json or .csv in the current directory)')
    .option('--timeline-ms <t>', 'BERT: target whose timelines the HTML draws (default: the middle target)', Number)
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .action(async (id: number, f: ReportFlags) => (await import('../actions/sweep.js')).runReport(id, f));
}

export function registerSweeps(program: Command): void {
  program
    .command('sweeps')
    .description(
      'list the sweeps in the experiment store, and the queued ones still running with their progress (done, running, failed, waiting)',
    )
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print a JSON array')
    .action(async (f: { db?: string; json?: boolean }) => (await import('../actions/sweep.js')).runSweeps(f));
}

export function parseTolerance(v: string): Tolerance {
  const t = { ...DEFAULT_TOLERANCE };
  for (const part of v.split(',')) {
    const [k, x] = part.split('=');
    if (!(k in t || k === 'perplexity') || !(Number(x) >= 0))
      throw new InvalidArgumentError(
        `--tolerance takes accuracy=A,makespan=R,memory=R (A in accuracy fraction, R relative; RWKV also perplexity=R), got "${v}"`,
      );
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
      'accuracy=0.005,makespan=0.01,memory=0.01 (absolute accuracy fraction; relative makespan and memory; RWKV: makespan covers every time, accuracy the last-word accuracy, perplexity=0.01 relative)',
      parseTolerance,
      DEFAULT_TOLERANCE,
    )
    .option('--model <dir>', "the model to re-run (default: the baseline's), or a bundled model by name", resolveModel)
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print one JSON object')
    .action(async (f: RegressFlags) => (await import('../actions/sweep.js')).runRegress(f));
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      "evaluate queued sweeps' configurations (shardlab sweep --queue) on this machine until stopped (Ctrl-C); the models must be here, at the submitter's paths or under --models, with the same checksums",
    )
    .requiredOption('--queue <url>', 'the Redis the sweeps are queued on, redis://HOST:PORT[/DB]')
    .option('--concurrency <n>', 'configurations evaluated at once, each on its own thread (default: 1)', positiveInt('--concurrency'), 1)
    .option('--models <dir>', "a folder holding the models by their folder names, where the submitter's paths do not exist here")
    .option(
      '--lock-ms <ms>',
      "how long a job stays locked without its worker renewing it; a killed worker's job is taken over after about this long (default: 30000)",
      positiveInt('--lock-ms'),
      30_000,
    )
    .action(async (f: WorkerFlags) => (await import('../actions/worker.js')).runWorker(f));
}
