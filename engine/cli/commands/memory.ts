import { InvalidArgumentError, type Command } from 'commander';
import { resolveModel } from '../model-arg.js';
import { addTechniqueOptions } from '../technique-options.js';

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

function dtype(value: string): 'fp32' | 'fp16' {
  if (value !== 'fp32' && value !== 'fp16') throw new InvalidArgumentError('use fp32 or fp16');
  return value;
}

export function registerMemory(program: Command): void {
  const cmd = program
    .command('memory')
    .description("an RWKV model's resident weight bytes by category with RWKV-edge's techniques, against the dense model")
    .requiredOption(
      '--model <dir>',
      'RWKV model directory, a bundled model by name, or a shape preset (rwkv5-world-0.1b, …)',
      resolveModel,
    );
  addTechniqueOptions(cmd)
    .option(
      '--predictor-density <x>',
      'fraction of FFN rows the predictors load, one or one per layer (default: measured by lm-eval, else 0.25, §4)',
      fractions,
    )
    .option(
      '--head-touched <x>',
      "fraction of the head's rows read per token (default: measured by lm-eval, else 0.13, §3.4)",
      fraction('--head-touched'),
    )
    .option('--dtype <dtype>', 'fp32 | fp16', dtype, 'fp16')
    .option('--db <path>', 'experiment database the measured statistics are read from (default: in the user data directory)')
    .option('--json', 'print one JSON object')
    .action(async (f: { model: string }) => (await import('../family-command.js')).familyCommand('memory', f.model, f));
}
