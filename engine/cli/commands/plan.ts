import type { Command } from 'commander';
import { resolveModel } from '../model-arg.js';
import { FAMILIES } from '../../families/index.js';
import { DEFAULT_BUFFER_KB } from '../../pipeline/plan.js';
import type { PlanFlags } from '../actions/plan.js';
import { DEFAULT_IMPORTANCE } from '../defaults.js';
import { positiveInt, positiveNumber } from '../options.js';
import { throttleOptions } from '../throttles.js';

export function registerPlan(program: Command): void {
  // The planners of every registered family (each family's default first).
  const planners = FAMILIES.flatMap((f) => f.planners());
  const cmd = program
    .command('plan')
    .description(
      'plan a request for a target latency and preload buffer with STI or a baseline; prints the plan and its predicted timeline',
    )
    .requiredOption('--soc <id>', 'SoC profile id')
    .requiredOption('--model <dir>', 'checkpoint directory, shard store, or shape preset, or a bundled model by name', resolveModel)
    .requiredOption('--target-ms <t>', 'target latency, ms', positiveNumber('--target-ms'))
    .option('--buffer-kb <k>', 'preload buffer capacity, KB', (v: string) => Number(v), DEFAULT_BUFFER_KB)
    .option('--planner <name>', planners.map((p) => p.name).join(' | '), planners[0].name)
    .option(
      '--importance <method>',
      'importance profile to rank shards by: sti:32/2 or drop:32/2 (profiled first when missing, as `shardlab profile` would)',
      DEFAULT_IMPORTANCE,
    )
    .option(
      '--limit <k>',
      'importance profiled on a fixed stratified sample of K dev examples (the profile `shardlab profile --limit K` stores); a stored profile on more examples serves',
      positiveInt('--limit'),
    )
    .option('--seq <tokens>', "sequence length (default: the model family's, 128 for bert)", positiveInt('--seq'))
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print one JSON object');
  throttleOptions(cmd).action(async (f: PlanFlags) => (await import('../actions/plan.js')).runPlan(f));
}
