import { evaluate } from '../accuracy.js';
import { UserError } from '../../../core/errors.js';
import { formatAccuracy, wilson95 } from '../../../eval/interval.js';
import { compareWithReference } from '../reference.js';
import { openForEval } from '../open.js';
import { loadTask, type Split } from '../datasets.js';
import { taskOf } from '../datasets.js';
import { dataSplit, taskOrData } from './data.js';
import { taskKey } from '../data-file.js';
import { progressBar } from '../../../core/progress.js';
import { sampleKey, stratifiedSample } from '../../../eval/sample.js';

export interface EvalFlags {
  model: string;
  task?: string;
  data?: string;
  split: Split;
  layers?: number;
  slices?: number;
  limit?: number;
  json?: boolean;
}

/** shardlab eval: accuracy of a submodel on a task split. */
export async function runEval(flags: EvalFlags): Promise<void> {
  const { model, submodel, bits } = await openForEval(flags.model);
  const source = taskOrData(model.config, flags, flags.model);
  const task = taskKey(source);
  const layers = flags.layers ?? model.config.layers;
  const slices = flags.slices ?? model.config.slices;
  model.checkShape(layers, slices);
  const all = typeof source === 'string' ? loadTask(source, flags.split).examples : dataSplit(source, flags.split);
  const examples = flags.limit ? stratifiedSample(all, flags.limit) : all;
  const splitKey = sampleKey(flags.split, examples.length, all.length);
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
    ...(flags.data !== undefined && { data: flags.data }),
    split: splitKey,
    layers,
    slices,
    bits,
    examples: r.examples,
    correct: r.correct,
    accuracy: r.accuracy,
    accuracyInterval: wilson95(r.accuracy, r.examples),
    examplesPerSecond: r.examplesPerSecond,
  };
  if (flags.json) return console.log(JSON.stringify(out));
  console.log(`model       ${flags.model} (${task}, ${model.config.labels.join(' / ')})`);
  if (typeof source !== 'string')
    console.log(
      `data        ${flags.data} (${source.format}, ${source.kind === 'pair' ? `pairs ${source.textColumns.join(' + ')}` : 'single texts'})`,
    );
  console.log(`split       ${splitKey}, ${r.examples} examples${splitKey === flags.split ? '' : ' (a fixed stratified sample)'}`);
  console.log(
    `submodel    ${layers}/${model.config.layers} layers x ${slices}/${model.config.slices} slices${bits === 32 ? '' : `, ${bits}-bit shards`}`,
  );
  console.log(`accuracy    ${formatAccuracy(r.accuracy, r.examples, 2)} (95 % interval; ${r.correct}/${r.examples})`);
  console.log(`speed       ${r.examplesPerSecond.toFixed(1)} examples/s`);
}

export interface LogitsFlags {
  model: string;
  task?: string;
  reference?: boolean;
  tokens?: number[];
  expected?: string;
  json?: boolean;
}

/** shardlab logits --reference: the engine's logits against the stored PyTorch ones. */
export async function runLogits(flags: LogitsFlags): Promise<void> {
  if (flags.tokens || flags.expected) throw new UserError('--tokens and --expected apply to RWKV models; for a BERT model use --reference');
  if (!flags.reference)
    throw new UserError("shardlab logits on a BERT model needs --reference (it compares with the model's reference-logits.json)");
  const { model, submodel } = await openForEval(flags.model);
  const r = await compareWithReference(model, taskOf(model.config, flags.task, flags.model), submodel);
  await model.release();
  if (flags.json) return console.log(JSON.stringify({ model: flags.model, ...r }));
  console.log(`reference   ${r.examples} dev examples, PyTorch logits`);
  for (const c of r.configs) console.log(`  ${c.layers} layers x ${c.slices} slices   max |diff| ${c.maxAbsDiff.toExponential(2)}`);
  console.log(`maxAbsDiff  ${r.maxAbsDiff.toExponential(2)}`);
}
