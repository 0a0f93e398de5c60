import type { Command } from 'commander';
import { resolveModel } from '../model-arg.js';
import { addTechniqueOptions } from '../technique-options.js';

export function registerCompress(program: Command): void {
  const cmd = program
    .command('compress')
    .description("write an RWKV model directory with RWKV-edge's techniques built in (default: the paper's combination)")
    .requiredOption('--model <dir>', 'RWKV model directory, or a bundled model by name', resolveModel)
    .requiredOption('--out <dir>', 'the new directory (must not exist, or be empty)');
  addTechniqueOptions(cmd)
    .option('--json', 'print one JSON object')
    .action(async (f: { model: string }) => (await import('../family-command.js')).familyCommand('compress', f.model, f));
}
