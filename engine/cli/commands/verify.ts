import type { Command } from 'commander';
import { resolveModel } from '../model-arg.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      'check every file of a shard store against its manifest (size, sha256); for a checkpoint, its checksum and cached store; exit 1 when damaged',
    )
    .argument('<dir>', 'shard store or checkpoint directory, or a bundled model by name', resolveModel)
    .option('--json', 'print one JSON object')
    .action(async (dir: string, f: { json?: boolean }) =>
      (await import('../family-command.js')).familyCommand('verify', dir, { ...f, model: dir }),
    );
}
