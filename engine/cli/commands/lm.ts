import { InvalidArgumentError, type Command } from 'commander';
import { resolveModel } from '../model-arg.js';
import { nonNegativeNumber, positiveInt } from '../options.js';
import { addTechniqueOptions } from '../technique-options.js';

const MODEL_HELP = 'RWKV model directory (config.json, model.safetensors, vocab.json), or a bundled model by name';

function heldOutSplit(value: string): 'dev' | 'test' {
  if (value !== 'dev' && value !== 'test') throw new InvalidArgumentError('use dev or test (the training split is not scored)');
  return value;
}

function probability(flag: string) {
  return (value: string): number => {
    const x = Number(value);
    if (!(x > 0 && x <= 1)) throw new InvalidArgumentError(`${flag} takes a number above 0 and at most 1, e.g. 0.85`);
    return x;
  };
}

function seed(value: string): number {
  const x = Number(value);
  if (!Number.isInteger(x) || x < 0 || x >= 2 ** 32) throw new InvalidArgumentError('--seed takes an integer from 0 to 4294967295');
  return x;
}

export function registerLmEval(program: Command): void {
  const cmd = program
    .command('lm-eval')
    .description("a language model's perplexity, next-token and last-word accuracy on held-out English (cached per model and setting)")
    .requiredOption('--model <dir>', MODEL_HELP, resolveModel);
  addTechniqueOptions(cmd)
    .option('--split <split>', 'dev | test', heldOutSplit, 'dev')
    .option('--limit <n>', 'score a fixed sample of N passages, stratified by source', positiveInt('--limit'))
    .option('--db <path>', 'experiment database (default: in the user data directory)')
    .option('--json', 'print one JSON object')
    .action(async (f: { model: string }) => (await import('../family-command.js')).familyCommand('lm-eval', f.model, f));
}

export function registerGenerate(program: Command): void {
  const cmd = program
    .command('generate')
    .description('continue a prompt with a language model, printing the text as it is produced, then tokens/s')
    .requiredOption('--model <dir>', MODEL_HELP, resolveModel);
  addTechniqueOptions(cmd)
    .requiredOption('--prompt <text>', 'the text to continue')
    .option('--tokens <n>', 'tokens to generate', positiveInt('--tokens'), 100)
    .option('--temperature <t>', 'sampling temperature; 0 is greedy', nonNegativeNumber('--temperature'), 1)
    .option(
      '--top-p <p>',
      'nucleus sampling: draw from the most probable tokens holding this much probability',
      probability('--top-p'),
      0.85,
    )
    .option('--seed <s>', 'random seed (default: a new one, printed so the text can be repeated)', seed)
    .option('--json', 'print one JSON object at the end instead of streaming')
    .action(async (f: { model: string }) => (await import('../family-command.js')).familyCommand('generate', f.model, f));
}
