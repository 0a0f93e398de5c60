import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { shardlab, SPAM_MODEL, tempDir } from './helpers.js';
import { assertRefused } from './refused.js';
import { assertAllRefused, shardlabInOneProcess } from './refusals.js';

describe('shardlab shard, accuracy and profile', () => {
  let store: string;
  let db: string;
  before(() => {
    store = join(tempDir(), 'store');
    db = join(tempDir(), 'exp.db');
  });

  test('shard writes a store and prints the quality report as JSON', () => {
    const r = shardlab('shard', '--model', SPAM_MODEL, '--out', store, '--bits', '32,2,4', '--limit', '24', '--db', db, '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      out.perBits.map((q: { bits: number }) => q.bits),
      [2, 4, 32],
    );
    for (const q of out.perBits) {
      assert.ok(q.accuracy >= 0 && q.accuracy <= 1);
      assert.ok(q.outlierFraction < 0.01);
    }
    assert.ok(out.perBits[0].relativeError > out.perBits[1].relativeError);
    assert.equal(out.perBits[2].relativeError, 0);
    assert.ok(out.extraBytes > 0 && out.extraBytes < out.fp32Bytes);
  });

  test('accuracy evaluates a configuration once, then answers from the cache', () => {
    const config = join(tempDir(), 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        layers: 2,
        slices: 4,
        bits: [
          [32, 4, 2, 2],
          [4, 4, 2, 2],
        ],
      }),
    );
    // Both by the CLI's main in one process (refusals.ts); the cache is the database they share.
    const [firstRun, second] = shardlabInOneProcess([
      ['accuracy', '--model', store, '--config', config, '--limit', '24', '--db', db, '--json'],
      ['accuracy', '--model', store, '--config', config, '--limit', '24', '--db', db],
    ]);
    const first = JSON.parse(firstRun.stdout);
    assert.equal(first.cached, false);
    assert.equal(first.examples, 24);
    assert.match(second.stdout, /from cache\s+yes/);
    assert.match(second.stdout, new RegExp(`${(100 * first.accuracy).toFixed(2)} %`));
  });

  test('profile prints a layers x slices importance grid', () => {
    const r = shardlab('profile', '--model', store, '--method', 'sti', '--high', '4', '--low', '2', '--limit', '16', '--db', db, '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.scores.length, 4);
    assert.equal(out.scores[0].length, 8);
  });

  test('bad input is refused with one line and exit code 2', () => {
    const configOf = (c: object) => {
      const file = join(tempDir(), 'config.json');
      writeFileSync(file, JSON.stringify(c));
      return file;
    };
    assertRefused(
      ['accuracy', '--model', store, '--config', configOf({ layers: 2, slices: 4, bits: 3 }), '--db', db],
      /bitwidth 3 is not in the shard store/,
    );
    const notDb = join(tempDir(), 'notes.txt');
    writeFileSync(notDb, 'this is not a database, just some text that is long enough to look like a file header');
    // The rest through the CLI's main in one process (refusals.ts), each checked the same way.
    assertAllRefused([
      [['accuracy', '--model', store, '--config', configOf({ layers: 9, slices: 4, bits: 2 }), '--db', db], /layers 9 exceeds/],
      [['shard', '--model', SPAM_MODEL, '--out', store, '--db', db], /already exists and is not empty/],
      [['shard', '--model', SPAM_MODEL, '--out', join(tempDir(), 's'), '--bits', '2,7'], /--bits: 7 is not a supported bitwidth/],
      [['profile', '--model', store, '--method', 'random', '--db', db], /--method must be one of sti, drop/],
      [
        ['accuracy', '--model', store, '--config', configOf({ layers: 2, slices: 4, bits: 2 }), '--db', notDb],
        /cannot open as a shardlab experiment database/,
      ],
    ]);
  });

  test('a corrupt shard stops the run with the file named, exit code 2', () => {
    const manifest = JSON.parse(readFileSync(join(store, 'manifest.json'), 'utf8'));
    const file = manifest.shards.find(
      (s: { layer: number; slice: number; bits: number }) => s.layer === 0 && s.slice === 0 && s.bits === 2,
    ).file;
    const path = join(store, file);
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(path, bytes);
    const config = join(tempDir(), 'config.json');
    writeFileSync(config, JSON.stringify({ layers: 1, slices: 1, bits: 2 }));
    assertRefused(
      ['accuracy', '--model', store, '--config', config, '--db', db],
      new RegExp(`${file.replace(/\./g, '\\.')}: checksum mismatch`),
    );
  });
});
