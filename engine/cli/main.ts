/**
 * The `shardlab` command. buildProgram() declares every command (name, options, help) from light modules
 * only; each command's action imports its implementation (engine/cli/actions/) when it runs, so
 * `shardlab --help` and quick commands do not load onnxruntime, SQLite, HiGHS and the whole engine.
 */
import { Command, CommanderError } from 'commander';
import { UserError } from '../core/errors.js';
import { registerCost } from './commands/cost.js';
import { registerRun } from './commands/run.js';
import { registerPlan } from './commands/plan.js';
import { registerEval, registerLogits } from './commands/eval.js';
import { registerFamilies } from './commands/families.js';
import { registerGenerate, registerLmEval } from './commands/lm.js';
import { registerMemory } from './commands/memory.js';
import { registerCompress } from './commands/compress.js';
import { registerAccuracy, registerProfile, registerShard } from './commands/shard.js';
import { registerSocs } from './commands/socs.js';
import { registerVerify } from './commands/verify.js';
import { registerRegress, registerReport, registerSweep, registerSweeps, registerWorker } from './commands/sweep.js';
import { CheckFailed } from './check.js';
import { VERSION } from './version.js';

/** Exit code for bad input from the user (flags, files, model directories). */
export const EXIT_USAGE = 2;
/** Exit code of a check that ran and found a difference (shardlab regress). */
export const EXIT_CHECK_FAILED = 1;

export function buildProgram(): Command {
  const program = new Command('shardlab')
    .description('Plan and run sharded, pipelined NLP inference on simulated edge SoCs (STI).')
    .version(VERSION)
    .exitOverride();
  registerEval(program);
  registerLogits(program);
  registerLmEval(program);
  registerGenerate(program);
  registerMemory(program);
  registerCompress(program);
  registerShard(program);
  registerAccuracy(program);
  registerProfile(program);
  registerSocs(program);
  registerVerify(program);
  registerFamilies(program);
  registerCost(program);
  registerRun(program);
  registerPlan(program);
  registerSweep(program);
  registerSweeps(program);
  registerRegress(program);
  registerReport(program);
  registerWorker(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Exit code of an internal error: a bug in shardlab, not bad input. */
export const EXIT_INTERNAL = 1;

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CheckFailed) return EXIT_CHECK_FAILED;
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    return reportError(e);
  }
}

/**
 * The last resort for an error that reached the top: a UserError (bad input) is one line and exit code
 * 2; anything else is a bug, said to be one, with its stack for the report, and exit code 1.
 */
export function reportError(e: unknown): number {
  if (e instanceof UserError) {
    console.error(`shardlab: ${e.message}`);
    return EXIT_USAGE;
  }
  const message = e instanceof Error ? e.message : String(e);
  console.error(`shardlab: internal error (a bug, please report it): ${message.replace(/\s+/g, ' ')}`);
  if (e instanceof Error && e.stack) console.error(e.stack);
  return EXIT_INTERNAL;
}
