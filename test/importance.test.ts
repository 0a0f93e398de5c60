import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { profileImportance, servingImportance, shardWeights, type ProfileOptions } from '../engine/families/bert/importance.js';
import { AccuracyOracle } from '../engine/families/bert/oracle.js';
import { BertModel, type ReferenceLayer } from '../engine/families/bert/model.js';
import { makeBatch } from '../engine/families/bert/batch.js';
import { uniformConfiguration, type Configuration } from '../engine/families/bert/configuration.js';
import { loadTask } from '../engine/families/bert/datasets.js';
import type { ShardStore } from '../engine/families/bert/shard-store.js';
import { openStore } from '../engine/families/bert/open.js';
import { ExperimentStore } from '../engine/store/db.js';
import { SPAM_MODEL, tempDir } from './helpers.js';

process.env.SHARDLAB_HOME = tempDir('shardlab-home-');
const { WorkbenchService } = await import('../engine/workbench/service.js');

function withShard(c: Configuration, layer: number, slice: number, bits: number): Configuration {
  const rows = c.bits.map((r) => r.slice());
  rows[layer][slice] = bits;
  return { ...c, bits: rows };
}

describe('importance profiling', () => {
  let store: ShardStore;
  let model: BertModel;
  let opts: Omit<ProfileOptions, 'method'>;
  const fresh = (name: string) => ExperimentStore.open(join(tempDir(), `${name}.db`));
  before(async () => {
    // The fixture's store in the cache the test files share (it holds 2 and 32 bits among others).
    store = openStore(SPAM_MODEL);
    model = await BertModel.create(store.dir, store.config, store.base(), { threads: 1 });
    opts = { layers: 4, slices: 8, high: 32, low: 2, modelChecksum: store.checksum };
  });
  after(() => model.release());

  test('the tail graph (last layer for the CLS row only) gives the whole model’s logits', async () => {
    const w = store.configurationWeights(uniformConfiguration(4, 8, 2));
    const batch = makeBatch(
      loadTask('spam', 'dev')
        .examples.slice(0, 6)
        .map((e) => model.tokenizer.encode(e.text)),
    );
    const whole = await model.logitsWith(batch, w);
    const { hidden, maskBias } = await model.embedBatch(batch);
    const tail = await model.logitsFrom(hidden, maskBias, w);
    assert.equal(tail.length, whole.length);
    whole.forEach((v, i) => assert.ok(Math.abs(v - tail[i]) < 1e-4, `logit ${i}: ${v} vs ${tail[i]}`));
  });

  test('every shard’s logits from the reference’s run of its layer equal the whole model’s with that shard in place', async () => {
    const close = (got: Float32Array, want: Float32Array, what: string) => {
      assert.equal(got.length, want.length, what);
      want.forEach((v, i) => assert.ok(Math.abs(v - got[i]) < 1e-4, `${what}, logit ${i}: ${got[i]} vs ${v}`));
    };
    const batch = makeBatch(
      loadTask('spam', 'dev')
        .examples.slice(0, 4)
        .map((e) => model.tokenizer.encode(e.text)),
    );
    for (const [refBits, probeBits] of [
      [2, 32],
      [32, 2],
    ]) {
      const base = uniformConfiguration(4, 8, refBits);
      const ref = store.configurationWeights(base);
      const shards = shardWeights(store, 8, ref, store.configurationWeights(uniformConfiguration(4, 8, probeBits)));
      const { hidden, maskBias } = await model.embedBatch(batch);
      const runs: ReferenceLayer[] = [];
      for (let l = 0; l < 4; l++) runs.push(await model.runReferenceLayer(l ? runs[l - 1].out : hidden, maskBias, ref[l], l === 3));
      close(await model.runHead(runs[3].out), await model.logitsWith(batch, ref), `reference at ${refBits} bits`);
      for (let layer = 0; layer < 4; layer++)
        for (let slice = 0; slice < 8; slice++) {
          const whole = await model.logitsWith(batch, store.configurationWeights(withShard(base, layer, slice, probeBits)));
          const fast = await model.shardLogits(runs[layer], maskBias, shards.layer(layer, slice), ref.slice(layer + 1));
          close(fast, whole, `shard L${layer} S${slice} at ${probeBits} bits in ${refBits}`);
        }
    }
  });

  for (const method of ['sti', 'drop'] as const)
    test(`${method}: every score is the accuracy the oracle measures for that configuration run whole`, async () => {
      const db = fresh(method);
      // A sample of 12 (the mechanics do not depend on how many): scores in twelfths.
      const oracle = new AccuracyOracle(model, store, db, 'spam', 'dev', 12);
      const p = await profileImportance(oracle, db, { ...opts, method });
      assert.equal(p.scores.length, 32);
      assert.equal(p.evaluated, 32);
      assert.equal(p.examples, 12);
      const [refBits, probeBits] = method === 'sti' ? [2, 32] : [32, 2];
      const base = uniformConfiguration(4, 8, refBits);
      const check = new AccuracyOracle(model, store, fresh(`${method}-check`), 'spam', 'dev', 12);
      assert.equal(p.reference, (await check.accuracy(base)).accuracy);
      for (const [layer, slice] of [
        [0, 0],
        [1, 5],
        [2, 7],
        [3, 2],
      ]) {
        const row = p.scores.find((r) => r.layer === layer && r.slice === slice)!;
        const whole = (await check.accuracy(withShard(base, layer, slice, probeBits))).accuracy;
        assert.equal(row.accuracy, whole, `shard L${layer} S${slice}`);
        assert.equal(row.score, method === 'sti' ? whole : p.reference - whole);
      }
      db.close();
    });

  test('progress counts example evaluations from the start; an interrupted profile keeps what earlier runs stored', async () => {
    const db = fresh('resume');
    const oracle = new AccuracyOracle(model, store, db, 'spam', 'dev', 16);
    const key = { model: store.checksum, task: 'spam', split: oracle.splitKey, method: 'drop:32/2' };
    // Three shards stored by an earlier run.
    for (const slice of [0, 1, 2]) db.putImportance(key, { layer: 0, slice, score: 0.5, accuracy: 0.25 });
    const seen: [number, number][] = [];
    await assert.rejects(
      profileImportance(oracle, db, {
        ...opts,
        method: 'drop',
        onProgress: (done, total) => {
          seen.push([done, total]);
          if (done >= total / 2) throw new Error('interrupted');
        },
      }),
      /interrupted/,
    );
    assert.deepEqual(seen[0], [0, (29 + 1) * 16], 'the reference pass and 29 shards, times 16 examples, from the first report');
    assert.ok(seen.length > 10, 'it moves batch by batch, shard by shard');
    assert.equal(db.importance(key).length, 3, 'nothing of the interrupted run is stored');
    const p = await profileImportance(oracle, db, { ...opts, method: 'drop' });
    assert.equal(p.evaluated, 29);
    assert.equal(p.scores.length, 32);
    assert.deepEqual(p.scores[0], { layer: 0, slice: 0, score: 0.5, accuracy: 0.25 });
    db.close();
  });

  test('a complete profile on more examples serves a request on fewer; the full split’s first, never a first-N one', () => {
    const db = fresh('serve');
    const key = { model: 'm', task: 'spam', method: 'sti:32/2' };
    const put = (split: string, score: number, n = 4) => {
      for (let i = 0; i < n; i++) db.putImportance({ ...key, split }, { layer: Math.floor(i / 2), slice: i % 2, score, accuracy: score });
    };
    const serve = (want: number) => servingImportance(db, key, { split: 'dev', want, all: 600 }, 2, 2);
    put('dev[:500]', 0.1);
    assert.equal(serve(200), undefined, 'the older first-N profile is not a sample of dev');
    put('dev~strat300', 0.3);
    put('dev~strat100', 0.2);
    put('dev~strat400', 0.4, 3); // partial
    assert.equal(serve(200)?.split, 'dev~strat300');
    assert.equal(serve(100)?.split, 'dev~strat300', 'the largest sample, not the one of the same size');
    assert.equal(serve(350), undefined, 'fewer examples never serve more');
    put('dev', 0.9);
    assert.deepEqual(serve(100), {
      split: 'dev',
      grid: [
        [0.9, 0.9],
        [0.9, 0.9],
      ],
    });
    assert.equal(serve(600)?.split, 'dev');
    db.close();
  });
});

test('workbench: the profile job reports example evaluations with time left; its profile then serves fewer examples', async () => {
  const s = new WorkbenchService('test');
  try {
    const q = { soc: 'odroid-n2plus', model: 'bert-spam', planner: 'sti', targetMs: 120, bufferKb: 1536 };
    assert.equal((await s.plan({ ...q, evalLimit: 6 })).importance, 'missing');
    const events: { done: number; total: number; etaMs?: number }[] = [];
    const ctx = {
      jobId: 'j',
      signal: new AbortController().signal,
      emit: (e: { type: string }) => e.type === 'progress' && events.push(e as never),
    };
    const r = (await s.runJob({ kind: 'importance', model: 'bert-spam', evalLimit: 12 }, ctx)) as { split: string; evaluated: number };
    assert.deepEqual([r.split, r.evaluated], ['dev~strat12', 32]);
    assert.deepEqual([events[0].done, events[0].total], [0, 33 * 12]);
    assert.equal(events.at(-1)!.done, 33 * 12);
    assert.ok(
      events.slice(1).every((e) => typeof e.etaMs === 'number' && e.etaMs >= 0),
      'every report after the first says how long is left',
    );
    const fewer = await s.plan({ ...q, evalLimit: 6 });
    assert.deepEqual([fewer.importance, fewer.planner], ['stored', 'sti'], 'the profile on 12 examples serves a request on 6');
    assert.equal((await s.plan({ ...q, evalLimit: 24 })).importance, 'missing', 'but not one on 24');
  } finally {
    await s.close();
  }
});
