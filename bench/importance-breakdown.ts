/**
 * Where profileImportance's time goes, per phase, on the first N batches of a profile (temporary
 * measuring aid): embeddings, the reference's layers, composing shard weights, and each shard's tail
 * split into its perturbed layer and the layers after it.
 *
 *   node dist/bench/importance-breakdown.js [--model DIR] [--batches N]
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openSharded } from '../engine/families/bert/open.js';
import { AccuracyOracle } from '../engine/families/bert/oracle.js';
import { requireTask } from '../engine/families/bert/datasets.js';
import { ExperimentStore } from '../engine/store/db.js';
import { uniformConfiguration } from '../engine/families/bert/configuration.js';
import { lengthBuckets, makeBatch } from '../engine/families/bert/batch.js';

const { values } = parseArgs({
  options: { model: { type: 'string', default: 'fixtures/models/bert-sotu-era' }, batches: { type: 'string', default: '6' } },
});
const { model, store } = await openSharded(values.model!);
const task = requireTask(store.config.task ?? '');
const { layers, slices } = store.config;
const oracle = new AccuracyOracle(model, store, ExperimentStore.open(':memory:'), task, 'dev');
const seqs = oracle.examples.map((e) => model.tokenizer.encode(e.text));
const buckets = lengthBuckets(seqs, 32);
const lens = buckets.map((b) => seqs[b.at(-1)!].length);
console.log(`${oracle.examples.length} examples, ${buckets.length} batches; padded lengths: ${lens.join(' ')}`);
const load = (bits: number) => Array.from({ length: layers }, (_, l) => store.loadLayer(l, uniformConfiguration(layers, slices, bits).bits[l]));
const ref = load(2);
const t: Record<string, number> = {};
const time = async <T>(k: string, f: () => Promise<T> | T): Promise<T> => {
  const s = performance.now();
  const r = await f();
  t[k] = (t[k] ?? 0) + performance.now() - s;
  return r;
};
// Warm-up: sessions built.
{
  const { hidden, maskBias } = await model.embedBatch(makeBatch(buckets[0].map((i) => seqs[i])));
  for (let n = 1; n <= layers; n++) await model.logitsFrom(hidden, maskBias, ref.slice(layers - n));
  await model.runLayer(hidden, maskBias, ref[0]);
  await model.runLayer(hidden, maskBias, ref[0], true);
}
const n = Math.min(Number(values.batches), buckets.length);
// Take batches spread over the length range.
const picked = Array.from({ length: n }, (_, k) => buckets[Math.floor(((k + 0.5) * buckets.length) / n)]);
for (const idx of picked) {
  const { hidden, maskBias } = await time('embed', () => model.embedBatch(makeBatch(idx.map((i) => seqs[i]))));
  const inputs = [hidden];
  for (let l = 0; l < layers - 1; l++) inputs.push(await time('ref full layer', () => model.runLayer(inputs[l], maskBias, ref[l])));
  // One full layer and one CLS-only layer, run 8 times each (as a shard's perturbed layer would be).
  for (let s = 0; s < slices; s++) {
    await time('x8 one full layer (as perturbed layer 0)', () => model.runLayer(inputs[0], maskBias, ref[0]));
    await time('x8 one CLS-only layer (last layer)', () => model.runLayer(inputs[layers - 1], maskBias, ref[layers - 1], true));
    for (let l = 0; l < layers; l++)
      await time(`x8 tail from layer ${l} (${layers - l} layers, one session run)`, () =>
        model.logitsFrom(inputs[l], maskBias, ref.slice(l)),
      );
  }
}
const total = Object.values(t).reduce((a, b) => a + b, 0);
for (const [k, v] of Object.entries(t)) console.log(`${(v / 1000).toFixed(2).padStart(8)} s  ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
await model.release();
