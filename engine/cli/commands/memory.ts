import { InvalidArgumentError, type Command } from 'commander';
import { resolveModel } from '../model-arg.js';
import { positiveInt } from '../options.js';

function fraction(flag: string) {
  return (value: string): number => {
    const x = Number(value);
    if (value.trim() === '' || !(x >= 0 && x <= 1)) throw new InvalidArgumentError(`${flag} takes a fraction from 0 to 1, e.g. 0.25`);
    return x;
  };
}

/** One fraction for every layer, or a comma-separated fraction per layer. */
function fractions(value: string): number[] {
  return value.split(',').map(fraction('--predictor-density'));
}

function factor(value: string): number {
  const x = Number(value);
  if (!(x >= 1) || !Number.isFinite(x)) throw new InvalidArgumentError(`--lowrank takes a factor f >= 1 (rank D/f), e.g. 8`);
  return x;
}

function dtype(value: string): 'fp32' | 'fp16' {
  if (value !== 'fp32' && value !== 'fp16') throw new InvalidArgumentError('use fp32 or fp16');
  return value;
}

export function registerMemory(program: Command): void {
  program
    .command('memory')
    .description("an RWKV model's resident weight bytes by category with RWKV-edge's techniques, against the dense model")
    .requiredOption('--model <dir>', 'RWKV model directory, a bundled model by name, or a shape preset (rwkv5-world-0.1b, …)', resolveModel)
    .option(
      '--techniques <list>',
      'all | none | a comma list of lowrank, sparse-ffn, emb-cache, cluster-head, int8 (default: all without int8, unless a technique flag below is given)',
    )
    .option('--lowrank <f>', 'factor the projections at rank D/f (default 8)', factor)
    .option(
      '--predictor-density <x>',
      'fraction of FFN rows the predictors load: one, or one per layer comma-separated (default 0.25, §4)',
      fractions,
    )
    .option('--emb-cache <n>', 'embedding rows cached (default 1000)', positiveInt('--emb-cache'))
    .option(
      '--head-touched <x>',
      "fraction of the head's rows in the clusters computed per token (default 0.13, §3.4)",
      fraction('--head-touched'),
    )
    .option('--head-clusters <k>', "clusters of the hierarchical head's first level (default 200)", positiveInt('--head-clusters'))
    .option('--int8', 'every matrix but the embedding as INT8 (rwkv pip scheme)')
    .option('--dtype <dtype>', 'fp32 | fp16', dtype, 'fp16')
    .option('--json', 'print one JSON object')
    .action(async (f: { model: string }) => (await import('../family-command.js')).familyCommand('memory', f.model, f));
}
