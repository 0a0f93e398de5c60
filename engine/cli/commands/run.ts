import { InvalidArgumentError, type Command } from 'commander';
import { resolveModel } from '../model-arg.js';
import { FAMILIES } from '../../families/index.js';
import { DEFAULT_BUFFER_KB } from '../../pipeline/plan.js';
import type { RunCommandFlags } from '../actions/run.js';
import { DEFAULT_IMPORTANCE } from '../defaults.js';
import { nonNegativeNumber, positiveInt, positiveNumber } from '../options.js';
import { throttleOptions } from '../throttles.js';
import { addTechniqueOptions } from '../technique-options.js';

/** Every registered family's paradigms (bert: STI's three). */
const PARADIGMS = [...new Set(FAMILIES.flatMap((f) => f.paradigms))];

export function registerRun(program: Command): void {
  const planners = FAMILIES.flatMap((f) => f.planners());
  const cmd = program
    .command('run')
    .description(
      'BERT: run a plan through the pipelined executor (real reads, dequantization and compute) under an SoC profile; RWKV: generate token by token through the per-token pipeline',
    )
    .requiredOption('--soc <id>', 'SoC profile id (see shardlab socs)')
    .requiredOption(
      '--model <dir>',
      'checkpoint directory, shard store, or a shape preset: bert-base | bert-large | distilbert, or a bundled model by name (bert-spam, rwkv5-en, …)',
      resolveModel,
    )
    .option(
      '--planner <name>',
      `plan with this planner for --target-ms, as shardlab plan does (${planners.map((p) => p.name).join(' | ')})`,
    )
    .option(
      '--target-ms <t>',
      'with --planner: the target latency, ms (the default planner when --planner is not given)',
      positiveNumber('--target-ms'),
    )
    .option('--importance <method>', `with --planner: the importance profile a ranking planner uses (default ${DEFAULT_IMPORTANCE})`)
    .option('--seq <tokens>', "with --planner: the request length planned for (default: the model family's)", positiveInt('--seq'))
    .option('--config <file>', 'configuration JSON to run layerwise: {"layers", "slices", "bits"}')
    .option('--paradigm <name>', `${PARADIGMS.join(' | ')} over the full model`, (v: string) => {
      if (!PARADIGMS.includes(v)) throw new InvalidArgumentError(`--paradigm must be one of ${PARADIGMS.join(', ')}, got "${v}"`);
      return v;
    })
    .option('--bits <b>', 'uniform bitwidth for --paradigm (default 32)', positiveInt('--bits'))
    .option(
      '--buffer-kb <k>',
      `preload buffer capacity, KB: with --planner, planned (default ${DEFAULT_BUFFER_KB}); with --config or --paradigm, filled with shards in layer order (default none)`,
      nonNegativeNumber('--buffer-kb'),
    )
    .option(
      '--mode <mode>',
      'virtual (modeled time, instant) | real (wall-clock, paced)',
      (v: string) => {
        if (v !== 'virtual' && v !== 'real') throw new InvalidArgumentError(`--mode must be virtual or real, got "${v}"`);
        return v;
      },
      'virtual',
    )
    .option(
      '--eval',
      'also report the quality of the configuration (cached): BERT dev accuracy; RWKV test perplexity and last-word accuracy',
    )
    .option(
      '--limit <k>',
      'with --eval: a fixed stratified sample of K examples (BERT: dev, and the importance profile a planner uses; RWKV: test passages)',
      positiveInt('--limit'),
    )
    .option('--task <name>', 'task (default: the one in the model config)')
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option(
      '--no-warm-up',
      'BERT, with --mode real: start the timed request cold (no session runs, read or decode before the clock starts)',
    )
    .option('--trace <file>', 'write a Chrome Trace Event JSON file (opens in Perfetto)')
    .option('--json', 'print one JSON object')
    .option('--prompt <text>', "RWKV: the text generation continues (default: the paper's speed prompt)")
    .option('--tokens <n>', 'RWKV: tokens to generate, greedy (default 200, as the paper)', positiveInt('--tokens'))
    .option('--stream', 'RWKV: the dense model streamed from storage layer by layer every token, not held in memory');
  addTechniqueOptions(cmd);
  throttleOptions(cmd).action(async (f: RunCommandFlags) => (await import('../actions/run.js')).runRunCommand(f));
}
