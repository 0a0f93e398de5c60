import type { Command } from 'commander';
import { evaluate } from '../../families/bert/accuracy.js';
import { compareWithReference } from '../../families/bert/reference.js';
import { openForEval } from '../../families/bert/open.js';
import { loadTask, type Split } from '../../families/bert/datasets.js';
import { parseSplit, positiveInt, taskOf } from '../options.js';
import { progressBar } from '../progress.js';

interface EvalFlags {
  model: string;
  task?: string;
  split: Split;
  layers?: number;
  slices?: number;
  limit?: number;
  json?: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('accuracy of the first N layers x first M slices of a model on a task split, run on onnxruntime-node')
    .requiredOption('--model <dir>', 'checkpoint directory (config.json, model.safetensors, tokenizer.json) or shard store')
    .option('--task <name>', 'task (default: the one in the model config)')
    .option('--split <split>', 'train | dev | test', parseSplit, 'dev')
    .option('--layers <n>', 'run the first N layers (default: all)', positiveInt('--layers'))
    .option('--slices <m>', 'run the first M slices of each layer (default: all)', positiveInt('--slices'))
    .option('--limit <k>', 'evaluate only the first K examples', positiveInt('--limit'))
    .option('--json', 'print one JSON object')
    .action(async (flags: EvalFlags) => {
      const { model, submodel, bits } = await openForEval(flags.model);
      const task = taskOf(model.config, flags.task, flags.model);
      const layers = flags.layers ?? model.config.layers;
      const slices = flags.slices ?? model.config.slices;
      model.checkShape(layers, slices);
      const examples = loadTask(task, flags.split).examples.slice(0, flags.limit);
      const bar = progressBar(`eval ${task}/${flags.split}`, !flags.json);
      const r = await evaluate(model, examples, {
        layers,
        slices,
        weights: submodel(layers, slices),
        onProgress: (d, t) => bar.update(d, t),
      });
      bar.stop();
      await model.release();
      const out = {
        model: flags.model,
        task,
        split: flags.split,
        layers,
        slices,
        bits,
        examples: r.examples,
        correct: r.correct,
        accuracy: r.accuracy,
        examplesPerSecond: r.examplesPerSecond,
      };
      if (flags.json) return console.log(JSON.stringify(out));
      console.log(`model       ${flags.model} (${task}, ${model.config.labels.join(' / ')})`);
      console.log(`split       ${flags.split}, ${r.examples} examples`);
      console.log(
        `submodel    ${layers}/${model.config.layers} layers x ${slices}/${model.config.slices} slices${bits === 32 ? '' : `, ${bits}-bit shards`}`,
      );
      console.log(`accuracy    ${(100 * r.accuracy).toFixed(2)} % (${r.correct}/${r.examples})`);
      console.log(`speed       ${r.examplesPerSecond.toFixed(1)} examples/s`);
    });
}

export function registerLogits(program: Command): void {
  program
    .command('logits')
    .description("compare the engine's logits with the PyTorch reference logits stored with the model")
    .requiredOption('--model <dir>', 'checkpoint directory or shard store with reference-logits.json')
    .requiredOption('--reference', 'compare with reference-logits.json')
    .option('--task <name>', 'task (default: the one in the model config)')
    .option('--json', 'print one JSON object')
    .action(async (flags: { model: string; task?: string; json?: boolean }) => {
      const { model, submodel } = await openForEval(flags.model);
      const r = await compareWithReference(model, taskOf(model.config, flags.task, flags.model), submodel);
      await model.release();
      if (flags.json) return console.log(JSON.stringify({ model: flags.model, ...r }));
      console.log(`reference   ${r.examples} dev examples, PyTorch logits`);
      for (const c of r.configs) console.log(`  ${c.layers} layers x ${c.slices} slices   max |diff| ${c.maxAbsDiff.toExponential(2)}`);
      console.log(`maxAbsDiff  ${r.maxAbsDiff.toExponential(2)}`);
    });
}
