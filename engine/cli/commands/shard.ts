import type { Command } from 'commander';
import { resolveModel } from '../model-arg.js';
import { DEFAULT_BITS } from '../defaults.js';
import { positiveInt } from '../options.js';

export function registerShard(program: Command): void {
  program
    .command('shard')
    .description('cut every layer into slices and write each slice at every fidelity, with a checked manifest; prints a quality report')
    .requiredOption('--model <dir>', 'checkpoint directory, or a bundled model by name', resolveModel)
    .requiredOption('--out <dir>', 'new shard store directory')
    .option('--bits <list>', 'bitwidths to store (2..6 dictionary-quantized, 32 = fp32)', DEFAULT_BITS.join(','))
    .option('--task <name>', 'task for the accuracy figures (default: the one in the model config)')
    .option('--limit <k>', 'evaluate accuracy on a fixed stratified sample of K dev examples', positiveInt('--limit'))
    .option('--no-eval', 'skip the uniform-bitwidth accuracy figures')
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print one JSON object')
    .action(async (f: { model: string }) => (await import('../family-command.js')).familyCommand('shard', f.model, f));
}

export function registerAccuracy(program: Command): void {
  program
    .command('accuracy')
    .description('dev accuracy of a configuration (layers, slices, bits per shard), evaluated from the shard store and cached')
    .requiredOption('--model <dir>', 'checkpoint directory or shard store, or a bundled model by name', resolveModel)
    .requiredOption('--config <file>', 'JSON: {"layers": N, "slices": M, "bits": B or [[...], ...]}')
    .option('--task <name>', 'task (default: the one in the model config)')
    .option(
      '--data <file>',
      'your own labelled data instead of a task: JSONL or CSV with text and label (or text_a/text_b and label) columns',
    )
    .option('--limit <k>', 'a fixed stratified sample of K dev examples', positiveInt('--limit'))
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print one JSON object')
    .action(async (f: { model: string }) => (await import('../family-command.js')).familyCommand('accuracy', f.model, f));
}

export function registerProfile(program: Command): void {
  program
    .command('profile')
    .description('importance of every (layer, slice) shard from real dev-set evaluations; resumes an interrupted run')
    .requiredOption('--model <dir>', 'checkpoint directory or shard store, or a bundled model by name', resolveModel)
    .option('--method <name>', 'sti: accuracy with that shard high and the rest low; drop: accuracy lost with that shard alone low', 'sti')
    .option('--high <bits>', 'high fidelity', '32')
    .option('--low <bits>', 'low fidelity', '2')
    .option('--task <name>', 'task (default: the one in the model config)')
    .option(
      '--data <file>',
      'your own labelled data instead of a task: JSONL or CSV with text and label (or text_a/text_b and label) columns',
    )
    .option('--limit <k>', 'a fixed stratified sample of K dev examples', positiveInt('--limit'))
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print one JSON object')
    .action(async (f: { model: string }) => (await import('../family-command.js')).familyCommand('profile', f.model, f));
}
