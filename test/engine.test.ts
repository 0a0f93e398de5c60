import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import ort from 'onnxruntime-node';
import { evaluate } from '../engine/families/bert/accuracy.js';
import { compareWithReference } from '../engine/families/bert/reference.js';
import { makeBatch, splitRows } from '../engine/families/bert/batch.js';
import { monolithicGraph } from '../engine/families/bert/graphs.js';
import { BertModel, rowsPerRun, sessionOptions } from '../engine/families/bert/model.js';
import { loadTask } from '../engine/families/bert/datasets.js';
import { UserError } from '../engine/core/errors.js';
import { SOTU_MODEL, SPAM_MODEL } from './helpers.js';

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

for (const [dir, task] of [
  [SPAM_MODEL, 'spam'],
  [SOTU_MODEL, 'sotu-era'],
] as const) {
  describe(`engine on ${task}`, () => {
    let model: BertModel;
    before(async () => (model = await BertModel.load(dir, { threads: 1 })));
    after(() => model.release());

    test('matches the PyTorch reference logits within 1e-4 at full and reduced width and depth', async () => {
      const r = await compareWithReference(model, task);
      assert.equal(r.examples, 64);
      assert.ok(r.configs.length >= 2);
      for (const c of r.configs) assert.ok(c.maxAbsDiff <= 1e-4, `${c.layers}x${c.slices}: ${c.maxAbsDiff}`);
    });

    test('padding in a batch does not change any example’s logits', async () => {
      const seqs = loadTask(task, 'dev')
        .examples.slice(0, 8)
        .map((e) => model.tokenizer.encode(e.text));
      const batched = await model.logits(makeBatch(seqs), 3, 5);
      const single = new Float32Array(batched.length);
      const L = model.config.labels.length;
      for (let i = 0; i < seqs.length; i++) single.set(await model.logits(makeBatch([seqs[i]]), 3, 5), i * L);
      assert.ok(maxDiff(batched, single) < 1e-5);
    });

    test('a batch of more tokens than one run takes is run in parts, every example’s logits in place', async () => {
      const seqs = loadTask(task, 'dev')
        .examples.slice(0, 64)
        .map((e) => model.tokenizer.encode(e.text));
      const batch = makeBatch(seqs);
      assert.ok(splitRows(batch, rowsPerRun(1)).length > 1, `${batch.size} x ${batch.length} tokens fit one run`);
      const whole = await model.logits(batch, 3, 5);
      const L = model.config.labels.length;
      for (let i = 0; i < seqs.length; i += 9)
        assert.ok(maxDiff(whole.subarray(i * L, (i + 1) * L), await model.logits(makeBatch([seqs[i]]), 3, 5)) < 1e-5);
    });

    test('one stacked run and a run layer by layer (as the executor does) compute the same logits', async () => {
      const batch = makeBatch(
        loadTask(task, 'dev')
          .examples.slice(0, 5)
          .map((e) => model.tokenizer.encode(e.text)),
      );
      for (const [n, m] of [
        [model.config.layers, model.config.slices],
        [3, 2],
      ]) {
        const w = model.submodel(n, m);
        assert.ok(maxDiff(await model.logitsWith(batch, w), await model.logitsLayerByLayer(batch, w)) < 1e-5);
      }
    });

    test('the monolithic graph computes the same logits', async () => {
      const seqs = loadTask(task, 'dev')
        .examples.slice(0, 6)
        .map((e) => model.tokenizer.encode(e.text));
      const batch = makeBatch(seqs);
      for (const [n, m] of [
        [model.config.layers, model.config.slices],
        [2, 3],
      ]) {
        const session = await ort.InferenceSession.create(
          monolithicGraph(model.config, model.weights!, n, m),
          sessionOptions({ threads: 1 }),
        );
        const dims = [batch.size, batch.length];
        const out = await session.run({
          input_ids: new ort.Tensor('int64', batch.ids, dims),
          attention_mask: new ort.Tensor('float32', batch.mask, dims),
        });
        assert.ok(maxDiff(out.logits.data as Float32Array, await model.logits(batch, n, m)) < 1e-5);
        await session.release();
      }
    });

    test('fewer slices and layers give different logits (the submodel really shrinks)', async () => {
      const batch = makeBatch([model.tokenizer.encode(loadTask(task, 'dev').examples[0].text)]);
      const full = await model.logits(batch);
      assert.ok(maxDiff(full, await model.logits(batch, model.config.layers, 1)) > 1e-3);
      assert.ok(maxDiff(full, await model.logits(batch, 1, model.config.slices)) > 1e-3);
    });

    test('a submodel outside the model is refused', async () => {
      await assert.rejects(model.logits(makeBatch([new Int32Array([2, 3])]), model.config.layers + 1, 1), UserError);
      await assert.rejects(model.logits(makeBatch([new Int32Array([2, 3])]), 1, 0), UserError);
    });
  });
}

test('spam: the 50 %-width submodel is within 3 points of the full model on dev', async () => {
  const model = await BertModel.load(SPAM_MODEL, { threads: 1 });
  const dev = loadTask('spam', 'dev').examples;
  const full = await evaluate(model, dev, { layers: model.config.layers, slices: model.config.slices });
  const half = await evaluate(model, dev, { layers: model.config.layers, slices: model.config.slices / 2 });
  await model.release();
  assert.ok(full.accuracy >= 0.95, `full ${full.accuracy}`);
  assert.ok(full.accuracy - half.accuracy <= 0.03, `full ${full.accuracy} half ${half.accuracy}`);
});

test('splitRows cuts a batch into views of whole examples, at most maxRows tokens each (one example at least)', () => {
  const batch = makeBatch([new Int32Array([2, 7, 3]), new Int32Array([2, 3]), new Int32Array([2, 8, 9]), new Int32Array([2, 3])]);
  const parts = splitRows(batch, 7);
  assert.deepEqual(
    parts.map((p) => p.size),
    [2, 2],
  );
  assert.equal(parts[1].ids.buffer, batch.ids.buffer);
  assert.deepEqual([...parts[1].ids], [...batch.ids.subarray(6)]);
  assert.deepEqual([...parts[1].mask], [1, 1, 1, 1, 1, 0]);
  assert.deepEqual(
    splitRows(batch, 2).map((p) => p.size),
    [1, 1, 1, 1],
  );
  assert.equal(splitRows(batch, Infinity).length, 1);
});
