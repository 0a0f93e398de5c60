import type { Command } from 'commander';
import { resolveModel } from '../model-arg.js';
import { parseSplit, positiveInt } from '../options.js';

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('accuracy of the first N layers x first M slices of a model on a task split, run on onnxruntime-node')
    .requiredOption(
      '--model <dir>',
      'checkpoint directory (config.json, model.safetensors, tokenizer.json) or shard store, or a bundled model by name',
      resolveModel,
    )
    .option('--task <name>', 'task (default: the one in the model config)')
    .option('--split <split>', 'train | dev | test', parseSplit, 'dev')
    .option('--layers <n>', 'run the first N layers (default: all)', positiveInt('--layers'))
    .option('--slices <m>', 'run the first M slices of each layer (default: all)', positiveInt('--slices'))
    .option('--limit <k>', 'evaluate a fixed stratified sample of K examples', positiveInt('--limit'))
    .option('--json', 'print one JSON object')
    .action(async (f: { model: string }) => (await import('../family-command.js')).familyCommand('eval', f.model, f));
}

export function registerLogits(program: Command): void {
  program
    .command('logits')
    .description("compare the engine's logits with the PyTorch reference logits stored with the model")
    .requiredOption(
      '--model <dir>',
      'checkpoint directory or shard store with reference-logits.json, or a bundled model by name',
      resolveModel,
    )
    .requiredOption('--reference', 'compare with reference-logits.json')
    .option('--task <name>', 'task (default: the one in the model config)')
    .option('--json', 'print one JSON object')
    .action(async (f: { model: string }) => (await import('../family-command.js')).familyCommand('logits', f.model, f));
}
