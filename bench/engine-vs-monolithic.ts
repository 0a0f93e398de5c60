/**
 * Throughput of the engine (one graph whose layer weights are fed as inputs, so any width, depth and
 * fidelity runs in the same session) against onnxruntime running the same model as one monolithic graph
 * with its weights as initializers (constant-folded and prepacked), and against that graph again with
 * onnxruntime's weight prepacking turned off (a graph fed its weights as inputs cannot prepack them).
 * Same inputs, same session options, rounds in rotating order in one run; prints both ratios.
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
// The same monolithic graph with onnxruntime's weight prepacking off: what is left of the gap once the
// one thing a graph fed its weights as inputs cannot do is taken from the monolithic side too.
const noPrepack = await ort.InferenceSession.create(monolithicGraph(model.config, model.weights!), {
  ...sessionOptions({ threads }),
  extra: { session: { intra_op: { allow_spinning: '1' }, disable_prepacking: '1' } },
});

async function runEngine(): Promise<void> {
  for (const b of batches) await model.logits(b);
}
function runGraph(session: ort.InferenceSession): () => Promise<void> {
  return async () => {
    for (const b of batches) {
      const dims = [b.size, b.length];
      await session.run({ input_ids: new ort.Tensor('int64', b.ids, dims), attention_mask: new ort.Tensor('float32', b.mask, dims) });
    }
  };
}
async function timed(f: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
}

const contenders: [string, () => Promise<void>][] = [
  ['engine', runEngine],
  ['monolithic', runGraph(mono)],
  ['monolithic, no prepacking', runGraph(noPrepack)],
];
for (const [, run] of contenders) await run(); // warm-up
const times = contenders.map(() => [] as number[]);
for (let r = 0; r < Number(values.rounds); r++) {
  // Rotate the order so drift on a shared machine hits every side alike.
  for (let k = 0; k < contenders.length; k++) {
    const i = (k + r) % contenders.length;
    times[i].push(await timed(contenders[i][1]));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const n = seqs.length;
const rates = times.map((t) => n / median(t));
console.log(`model ${values.model}, ${n} dev examples, batch ${values.batch}, ${threads} threads, ${values.rounds} rounds (median)`);
contenders.forEach(([name], i) => console.log(`${name.padEnd(26)} ${rates[i].toFixed(1)} examples/s`));
console.log(`ratio engine/monolithic ${(rates[0] / rates[1]).toFixed(3)}`);
console.log(`ratio engine/monolithic without prepacking ${(rates[0] / rates[2]).toFixed(3)}`);
await mono.release();
await noPrepack.release();
await model.release();
