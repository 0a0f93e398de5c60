import type { Command } from 'commander';
import { getFamily } from '../../families/index.js';
import type { PlanFlags } from '../actions/plan.js';
import { positiveInt, positiveNumber } from '../options.js';
import { throttleOptions } from '../throttles.js';

export function registerPlan(program: Command): void {
  // The planners come from the family (its default first); BERT is the only family plan serves so far.
  const planners = getFamily('bert').planners();
  const cmd = program
    .command('plan')
    .description(
      'plan a request for a target latency and preload buffer with STI or a baseline; prints the plan and its predicted timeline',
    )
    .requiredOption('--soc <id>', 'SoC profile id')
    .requiredOption('--model <dir>', 'checkpoint directory, shard store, or shape preset')
    .requiredOption('--target-ms <t>', 'target latency, ms', positiveNumber('--target-ms'))
    .option('--buffer-kb <k>', 'preload buffer capacity, KB', (v: string) => Number(v), 0)
    .option('--planner <name>', planners.map((p) => p.name).join(' | '), planners[0].name)
    .option('--importance <method>', 'stored importance profile to rank shards by: sti:32/2 (shardlab profile) or drop:32/2', 'sti:32/2')
    .option('--seq <tokens>', 'sequence length', positiveInt('--seq'), 128)
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print one JSON object');
  throttleOptions(cmd).action(async (f: PlanFlags) => (await import('../actions/plan.js')).runPlan(f));
}
