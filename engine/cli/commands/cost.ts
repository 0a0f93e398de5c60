import type { Command } from 'commander';
import { resolveModel } from '../model-arg.js';
import { FAMILIES } from '../../families/index.js';
import { positiveInt } from '../options.js';
import { throttleOptions } from '../throttles.js';

export function registerCost(program: Command): void {
  const cmd = program
    .command('cost')
    .description('the cost model per layer on an SoC: compute by width (attention, FFN, overhead), IO and dequantization per shard')
    .requiredOption('--soc <id>', 'SoC profile id (see shardlab socs)')
    .requiredOption(
      '--shape <name|dir>',
      `${FAMILIES.flatMap((f) => f.presets).join(' | ')} or a model directory, or a bundled model by name`,
      resolveModel,
    )
    .option('--seq <tokens>', "sequence length (default: the model family's, 128 for bert)", positiveInt('--seq'))
    .option('--json', 'print one JSON object');
  throttleOptions(cmd).action(async (f: { shape: string }) => (await import('../family-command.js')).familyCommand('cost', f.shape, f));
}
