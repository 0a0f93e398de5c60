import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { profileImportance } from '../engine/families/bert/importance.js';
import { AccuracyOracle } from '../engine/eval/oracle.js';
import { BertModel } from '../engine/families/bert/model.js';
import { uniformConfiguration } from '../engine/families/bert/configuration.js';
import { ShardStore, writeStore } from '../engine/families/bert/shard-store.js';
import { ExperimentStore } from '../engine/store/db.js';
import { SPAM_MODEL, tempDir } from './helpers.js';

describe('accuracy oracle and importance profiling', () => {
  let store: ShardStore;
  let model: BertModel;
  before(async () => {
    store = writeStore(SPAM_MODEL, join(tempDir(), 'store'), [2, 32]);
    model = await BertModel.create(store.dir, store.config, store.base(), { threads: 2 });
  });
  after(() => model.release());

  test('the experiment store migrates to the current schema in WAL mode', () => {
    const path = join(tempDir(), 'x.db');
    const db = ExperimentStore.open(path);
    assert.equal(db.schemaVersion, 2);
    const key = { model: 'm', task: 'spam', split: 'dev', configHash: 'h' };
    db.putAccuracy({ ...key, config: '{}', examples: 10, correct: 9, accuracy: 0.9, seconds: 1 });
    db.close();
    // Roll back to schema 1 (before sweeps), as an older shardlab left it; opening migrates and keeps the data.
    const raw = new Database(path);
    raw.exec('DROP TABLE sweep_rows; DROP TABLE sweeps; PRAGMA user_version = 1;');
    raw.close();
    const again = ExperimentStore.open(path);
    assert.equal(again.schemaVersion, 2);
    assert.equal(again.getAccuracy(key)?.accuracy, 0.9);
    assert.deepEqual(again.listSweeps(), []);
    again.close();
  });

  test('answers are cached by configuration and say so', async () => {
    const db = ExperimentStore.open(join(tempDir(), 'x.db'));
    const oracle = new AccuracyOracle(model, store, db, 'spam', 'dev', 40);
    const c = uniformConfiguration(2, 4, 2);
    const first = await oracle.accuracy(c);
    const second = await oracle.accuracy(c);
    assert.equal(first.cached, false);
    assert.equal(second.cached, true);
    assert.equal(second.accuracy, first.accuracy);
    assert.equal(second.examples, 40);
    const other = await oracle.accuracy(uniformConfiguration(2, 4, 32));
    assert.equal(other.cached, false);
    assert.notEqual(other.configHash, first.configHash);
    db.close();
  });

  test('profiles are deterministic and an interrupted profile resumes', async () => {
    const opts = { layers: 4, slices: 8, high: 32, low: 2, modelChecksum: store.checksum };
    const dbA = ExperimentStore.open(join(tempDir(), 'a.db'));
    const a = await profileImportance(new AccuracyOracle(model, store, dbA, 'spam', 'dev', 24), dbA, { ...opts, method: 'drop' });
    assert.equal(a.scores.length, 32);
    assert.equal(a.evaluated, 32);

    // Interrupt a second run after 5 shards, then resume it.
    const dbB = ExperimentStore.open(join(tempDir(), 'b.db'));
    const oracleB = new AccuracyOracle(model, store, dbB, 'spam', 'dev', 24);
    await assert.rejects(
      profileImportance(oracleB, dbB, {
        ...opts,
        method: 'drop',
        onProgress: (done) => {
          if (done === 5) throw new Error('interrupted');
        },
      }),
      /interrupted/,
    );
    const b = await profileImportance(oracleB, dbB, { ...opts, method: 'drop' });
    assert.equal(b.evaluated, 27);
    assert.deepEqual(b.scores, a.scores);
    dbA.close();
    dbB.close();
  });
});
