/**
 * Where profileImportance's time goes, per phase, on N batches spread over the length range (a measuring
 * aid): embeddings, the reference's layers, composing shard weights, and the shards' session runs by the
 * layer they perturb (their layer, the later layers and the head), in units of the old path's whole layers.
 *
 *   npm run bench:importance-breakdown -- [--model DIR] [--batches N]
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openSharded } from '../engine/families/bert/open.js';
import { AccuracyOracle } from '../engine/families/bert/oracle.js';
import { requireTask } from '../engine/families/bert/datasets.js';
import { ExperimentStore } from '../engine/store/db.js';
import { uniformConfiguration } from '../engine/families/bert/configuration.js';
import { lengthBuckets, makeBatch } from '../engine/families/bert/batch.js';
import type { ReferenceLayer } from '../engine/families/bert/model.js';
import { shardWeights } from '../engine/families/bert/importance.js';

const { values } = parseArgs({
  options: { model: { type: 'string', default: 'fixtures/models/bert-sotu-era' }, batches: { type: 'string', default: '6' } },
});
const { model, store } = await openSharded(values.model!);
const task = requireTask(store.config.task ?? '');
const { layers, slices } = store.config;
const last = layers - 1;
const oracle = new AccuracyOracle(model, store, ExperimentStore.open(':memory:'), task, 'dev');
const seqs = oracle.examples.map((e) => model.tokenizer.encode(e.text));
const buckets = lengthBuckets(seqs, 32);
const load = (bits: number) =>
  Array.from({ length: layers }, (_, l) => store.loadLayer(l, uniformConfiguration(layers, slices, bits).bits[l]));
const ref = load(2);
const shards = shardWeights(store, slices, ref, load(32));
const t = new Map<string, number>();
const time = async <T>(k: string, f: () => Promise<T> | T): Promise<T> => {
  const s = performance.now();
  const r = await f();
  t.set(k, (t.get(k) ?? 0) + performance.now() - s);
  return r;
};
async function batch(idx: number[], timed: boolean): Promise<void> {
  const k = (name: string) => (timed ? name : 'warm-up');
  const { hidden, maskBias } = await time(k('embeddings'), () => model.embedBatch(makeBatch(idx.map((i) => seqs[i]))));
  const runs: ReferenceLayer[] = [];
  for (let l = 0; l <= last; l++)
    runs.push(
      await time(k(`reference layer ${l}`), () => model.runReferenceLayer(l ? runs[l - 1].out : hidden, maskBias, ref[l], l === last)),
    );
  await time(k('reference head'), () => model.runHead(runs[last].out));
  for (let l = 0; l <= last; l++)
    for (let s = 0; s < slices; s++) {
      const w = await time(k('composing shard weights'), () => shards.layer(l, s));
      await time(k(`shards of layer ${l}: their layer + ${last - l} later + head`), () =>
        model.shardLogits(runs[l], maskBias, w, ref.slice(l + 1)),
      );
    }
  // For scale (not part of the profile): what the old path spends on this batch per configuration, the
  // whole model in one session run, interleaved with the shards so that the machine's load hits both alike.
  const b = makeBatch(idx.map((i) => seqs[i]));
  for (let s = 0; s < 4; s++) await time(k('(scale: the old path, one configuration, x4)'), () => model.logitsWith(b, ref));
}
await batch(buckets[0], false);
const n = Math.min(Number(values.batches), buckets.length);
const picked = Array.from({ length: n }, (_, i) => buckets[Math.floor(((i + 0.5) * buckets.length) / n)]);
for (const idx of picked) await batch(idx, true);
t.delete('warm-up');
// One whole layer as the old path runs it: a quarter of its whole-model run.
const whole = t.get('(scale: the old path, one configuration, x4)')! / 4 / layers;
const total = [...t.entries()].filter(([k]) => !k.startsWith('(')).reduce((a, [, v]) => a + v, 0);
console.log(`${n} of ${buckets.length} batches; per batch, in ms and in the old path's whole layers (${(whole / n).toFixed(1)} ms each):`);
for (const [k, v] of t)
  console.log(
    `${(v / n).toFixed(1).padStart(8)} ms ${(v / whole).toFixed(2).padStart(6)} layers ${k.startsWith('(') ? '' : `${((100 * v) / total).toFixed(1).padStart(5)} %`}  ${k}`,
  );
console.log(
  `${(total / n).toFixed(1).padStart(8)} ms ${(total / whole).toFixed(2).padStart(6)} layers  total (the old path: ${(1 + layers * slices) * layers} whole layers)`,
);
await model.release();
