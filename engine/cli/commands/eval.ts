import type { Command } from 'commander';
import { resolveModel } from '../model-arg.js';
import { parseSplit, positiveInt, tokenList } from '../options.js';

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
    .option(
      '--data <file>',
      'your own labelled data instead of a task: JSONL or CSV with text and label (or text_a/text_b and label) columns',
    )
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
    .description(
      "compare the engine's logits with the PyTorch reference logits stored with the model (--reference), or, for RWKV models, print or check the logits after --tokens",
    )
    .requiredOption(
      '--model <path>',
      'checkpoint directory or shard store with reference-logits.json, a bundled model by name, or an rwkv.cpp .bin file',
      resolveModel,
    )
    .option('--reference', "compare with the model directory's reference-logits.json (required for BERT models)")
    .option('--tokens <ids>', 'RWKV: feed these token ids one at a time from the initial state (comma-separated)', tokenList)
    .option('--expected <file>', 'RWKV: compare the logits after --tokens with these (little-endian float32, or a JSON array)')
    .option('--task <name>', 'task (default: the one in the model config)')
    .option('--json', 'print one JSON object')
    .action(async (f: { model: string }) => (await import('../family-command.js')).familyCommand('logits', f.model, f));
}
