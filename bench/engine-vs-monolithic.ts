/**
 * Throughput of the engine (one graph whose layer weights are fed as inputs, so any width, depth and
 * fidelity runs in the same session) against onnxruntime running the same model as one monolithic graph
 * with its weights as initializers (constant-folded and prepacked).
 * Same inputs, same session options, interleaved rounds in one run; prints the ratio engine / monolithic.
 *
 *   npm run bench -- [--model DIR] [--examples N] [--rounds R] [--batch B] [--threads T]
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { lengthBuckets, makeBatch, type Batch } from '../engine/families/bert/batch.js';
import { monolithicGraph } from '../engine/families/bert/graphs.js';
import { BertModel, sessionOptions } from '../engine/families/bert/model.js';
import { loadTask, requireTask } from '../engine/families/bert/datasets.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'fixtures/models/bert-spam' },
    examples: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '5' },
    batch: { type: 'string', default: '32' },
    threads: { type: 'string', default: '2' },
  },
});
const threads = Number(values.threads);
const model = await BertModel.load(values.model!, { threads });
const task = requireTask(model.config.task ?? 'spam');
const seqs = loadTask(task, 'dev')
  .examples.slice(0, Number(values.examples))
  .map((e) => model.tokenizer.encode(e.text));
const batches: Batch[] = lengthBuckets(seqs, Number(values.batch)).map((idx) => makeBatch(idx.map((i) => seqs[i])));
const mono = await ort.InferenceSession.create(monolithicGraph(model.config, model.weights!), sessionOptions({ threads }));

async function runEngine(): Promise<void> {
  for (const b of batches) await model.logits(b);
}
async function runMonolithic(): Promise<void> {
  for (const b of batches) {
    const dims = [b.size, b.length];
    await mono.run({ input_ids: new ort.Tensor('int64', b.ids, dims), attention_mask: new ort.Tensor('float32', b.mask, dims) });
  }
}
async function timed(f: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
}

await runEngine(); // warm-up both
await runMonolithic();
const engine: number[] = [];
const monolithic: number[] = [];
for (let r = 0; r < Number(values.rounds); r++) {
  // Alternate the order so drift on a shared machine hits both sides alike.
  if (r % 2 === 0) {
    engine.push(await timed(runEngine));
    monolithic.push(await timed(runMonolithic));
  } else {
    monolithic.push(await timed(runMonolithic));
    engine.push(await timed(runEngine));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const n = seqs.length;
const eRate = n / median(engine);
const mRate = n / median(monolithic);
console.log(`model ${values.model}, ${n} dev examples, batch ${values.batch}, ${threads} threads, ${values.rounds} rounds (median)`);
console.log(`engine      ${eRate.toFixed(1)} examples/s`);
console.log(`monolithic  ${mRate.toFixed(1)} examples/s`);
console.log(`ratio engine/monolithic ${(eRate / mRate).toFixed(3)}`);
await mono.release();
await model.release();
