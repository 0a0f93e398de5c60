import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AccuracyOracle } from '../engine/families/bert/oracle.js';
import { BertModel } from '../engine/families/bert/model.js';
import { uniformConfiguration } from '../engine/families/bert/configuration.js';
import { ShardStore, writeStore } from '../engine/families/bert/shard-store.js';
import { ExperimentStore } from '../engine/store/db.js';
import { SPAM_MODEL, tempDir } from './helpers.js';

describe('accuracy oracle', () => {
  let store: ShardStore;
  let model: BertModel;
  before(async () => {
    store = writeStore(SPAM_MODEL, join(tempDir(), 'store'), [2, 32]);
    model = await BertModel.create(store.dir, store.config, store.base(), { threads: 2 });
  });
  after(() => model.release());

  test('a schema-2 database (accuracy_cache with a correct column) migrates to the quality cache keeping every row', () => {
    const path = join(tempDir(), 'x.db');
    // The database exactly as shardlab 0.1 (schema 2) wrote it.
    const raw = new Database(path);
    raw.exec(`
      CREATE TABLE accuracy_cache (
        model TEXT NOT NULL, task TEXT NOT NULL, split TEXT NOT NULL, config_hash TEXT NOT NULL,
        config TEXT NOT NULL, examples INTEGER NOT NULL, correct INTEGER NOT NULL, accuracy REAL NOT NULL,
        seconds REAL NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (model, task, split, config_hash));
      CREATE TABLE importance (
        model TEXT NOT NULL, task TEXT NOT NULL, split TEXT NOT NULL, method TEXT NOT NULL,
        layer INTEGER NOT NULL, slice INTEGER NOT NULL, score REAL NOT NULL, accuracy REAL NOT NULL,
        created_at TEXT NOT NULL, PRIMARY KEY (model, task, split, method, layer, slice));
      CREATE TABLE sweeps (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, spec TEXT NOT NULL,
        model TEXT NOT NULL, task TEXT NOT NULL);
      CREATE TABLE sweep_rows (sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
        soc TEXT NOT NULL, planner TEXT NOT NULL, target_ms REAL NOT NULL, buffer_kb REAL NOT NULL, row TEXT NOT NULL,
        PRIMARY KEY (sweep_id, idx));
      INSERT INTO accuracy_cache VALUES ('m', 'spam', 'dev', 'h1', '{}', 10, 9, 0.9, 1.5, '2026-01-01');
      INSERT INTO accuracy_cache VALUES ('m', 'spam', 'dev[:40]', 'h2', '{}', 40, 30, 0.75, 2, '2026-01-01');
      INSERT INTO importance VALUES ('m', 'spam', 'dev', 'sti:32/2', 0, 1, 0.25, 0.8, '2026-01-01');
      INSERT INTO sweeps VALUES (1, '2026-01-01', '{"model":"x"}', 'm', 'spam');
      INSERT INTO sweep_rows VALUES (1, 0, 'odroid-n2plus', 'sti', 40, 400, '{"soc":"odroid-n2plus"}');
      PRAGMA user_version = 2;`);
    raw.close();
    const db = ExperimentStore.open(path);
    assert.equal(db.schemaVersion, 5);
    const key = { model: 'm', task: 'spam', split: 'dev', configHash: 'h1', metric: 'accuracy' };
    assert.deepEqual(db.getQuality(key), { ...key, config: '{}', value: 0.9, count: 10, seconds: 1.5 });
    assert.equal(db.getQuality({ ...key, split: 'dev[:40]', configHash: 'h2' })?.count, 40);
    assert.equal(db.getQuality({ ...key, metric: 'perplexity' }), undefined);
    assert.deepEqual(db.importance({ model: 'm', task: 'spam', split: 'dev', method: 'sti:32/2' }), [
      { layer: 0, slice: 1, score: 0.25, accuracy: 0.8 },
    ]);
    assert.equal(db.getSweep(1)?.rows.length, 1);
    db.close();
    // Opening again is a no-op.
    const again = ExperimentStore.open(path);
    assert.equal(again.schemaVersion, 5);
    assert.equal(again.getQuality(key)?.value, 0.9);
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
    assert.equal(oracle.splitKey, 'dev~strat40');
    assert.ok(first.interval.low <= first.accuracy && first.accuracy <= first.interval.high);
    assert.ok(first.interval.high - first.interval.low > 0.1, 'forty examples leave a wide interval');
    const other = await oracle.accuracy(uniformConfiguration(2, 4, 32));
    assert.equal(other.cached, false);
    assert.notEqual(other.configHash, first.configHash);
    db.close();
  });
});
