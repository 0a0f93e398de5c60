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
      'plan a request: BERT for a target latency and preload buffer (STI or a baseline); RWKV for a memory budget and per-token target (RWKV-edge techniques); prints the plan and its prediction',
    )
    .requiredOption('--soc <id>', 'SoC profile id')
    .requiredOption('--model <dir>', 'checkpoint directory, shard store, or shape preset, or a bundled model by name', resolveModel)
    .option('--target-ms <t>', 'BERT: target latency, ms (required for BERT models)', positiveNumber('--target-ms'))
    .option('--buffer-kb <k>', `BERT: preload buffer capacity, KB (default ${DEFAULT_BUFFER_KB})`, (v: string) => Number(v))
    .option('--planner <name>', `BERT: ${planners.map((p) => p.name).join(' | ')} (default ${planners[0].name})`)
    .option(
      '--importance <method>',
      `BERT: importance profile to rank shards by: sti:32/2 or drop:32/2 (default ${DEFAULT_IMPORTANCE}; profiled first when missing, as \`shardlab profile\` would)`,
    )
    .option('--memory-mb <m>', 'RWKV: memory the model may use (predicted peak), MiB', positiveNumber('--memory-mb'))
    .option('--token-ms <t>', 'RWKV: per-token latency target, ms', positiveNumber('--token-ms'))
    .option(
      '--limit <k>',
      "BERT: importance profiled on a fixed stratified sample of K dev examples (a stored profile on more examples serves); RWKV: test passages each setting's quality is measured on (default 40)",
      positiveInt('--limit'),
    )
    .option('--seq <tokens>', "sequence length (default: the model family's, 128 for bert)", positiveInt('--seq'))
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print one JSON object');
  throttleOptions(cmd).action(async (f: PlanFlags) => (await import('../actions/plan.js')).runPlanCommand(f));
}
