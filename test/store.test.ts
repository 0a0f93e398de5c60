import assert from 'node:assert/strict';
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { makeBatch } from '../engine/families/bert/batch.js';
import { BertModel } from '../engine/families/bert/model.js';
import { sha256 } from '../engine/core/checksum.js';
import { loadTask } from '../engine/families/bert/datasets.js';
import { UserError } from '../engine/core/errors.js';
import { uniformConfiguration } from '../engine/families/bert/configuration.js';
import { manifestDigest, ShardStore, STORE_VERSION, writeStore } from '../engine/families/bert/shard-store.js';
import { SPAM_MODEL, tempDir } from './helpers.js';
import { cpSync } from 'node:fs';

function maxDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

describe('shard store of the spam fixture', () => {
  let storeDir: string;
  let store: ShardStore;
  before(() => {
    storeDir = join(tempDir(), 'store');
    store = writeStore(SPAM_MODEL, storeDir, [2, 4, 6, 32]);
  });

  test('one file per (layer, slice, bits), each with size and checksum in the manifest', () => {
    const m = store.manifest;
    assert.equal(m.shards.length, 4 * 8 * 4);
    for (const s of m.shards) {
      const data = readFileSync(join(storeDir, s.file));
      assert.equal(m.files[s.file].bytes, data.length);
      assert.equal(m.files[s.file].sha256, sha256(data));
    }
    const bytes = (b: number) => m.shards.filter((s) => s.bits === b).reduce((a, s) => a + m.files[s.file].bytes, 0);
    assert.ok(bytes(2) < bytes(4) && bytes(4) < bytes(6) && bytes(6) < bytes(32) / 4);
  });

  test('the all-fp32 configuration reproduces the checkpoint logits (max |diff| <= 1e-5)', async () => {
    const checkpoint = await BertModel.load(SPAM_MODEL, { threads: 1 });
    const sharded = await BertModel.create(store.dir, store.config, store.base(), { threads: 1 });
    const batch = makeBatch(
      loadTask('spam', 'dev')
        .examples.slice(0, 16)
        .map((e) => checkpoint.tokenizer.encode(e.text)),
    );
    for (const [n, m] of [
      [4, 8],
      [2, 3],
    ]) {
      const fromStore = await sharded.logitsWith(batch, store.configurationWeights(uniformConfiguration(n, m, 32)));
      assert.ok(maxDiff(fromStore, await checkpoint.logits(batch, n, m)) <= 1e-5);
    }
    const sixBit = await sharded.logitsWith(batch, store.configurationWeights(uniformConfiguration(4, 8, 6)));
    const full = await checkpoint.logits(batch);
    assert.ok(maxDiff(sixBit, full) > 0, '6-bit weights differ from fp32');
    await checkpoint.release();
    await sharded.release();
  });

  test('refuses to overwrite an existing store', () => {
    assert.throws(() => writeStore(SPAM_MODEL, storeDir, [2]), /already exists/);
    assert.ok(ShardStore.open(storeDir));
  });

  test('flipping any single byte of any shard file is caught before use', () => {
    const copy = join(tempDir(), 'store');
    cpSync(storeDir, copy, { recursive: true });
    const damaged = ShardStore.open(copy);
    const files = Object.keys(damaged.manifest.files);
    let seed = 12345;
    const rnd = (n: number) => (seed = (seed * 16807) % 2147483647) % n;
    for (let trial = 0; trial < 300; trial++) {
      const rel = files[rnd(files.length)];
      const path = join(copy, rel);
      const original = readFileSync(path);
      const bytes = Buffer.from(original);
      const pos = rnd(bytes.length);
      bytes[pos] ^= 1 << rnd(8);
      writeFileSync(path, bytes);
      assert.throws(
        () => damaged.read(rel),
        (e: unknown) => e instanceof UserError && e.message.startsWith(path) && /checksum mismatch/.test(e.message),
        `${rel} byte ${pos}`,
      );
      writeFileSync(path, original);
    }
  });

  test('a truncated, missing or other-version shard is named and refused', () => {
    const copy = join(tempDir(), 'store');
    cpSync(storeDir, copy, { recursive: true });
    const s = ShardStore.open(copy);
    const entry = s.entry(1, 2, 4);
    const path = join(copy, entry.file);
    const original = readFileSync(path);
    truncateSync(path, original.length - 3);
    assert.throws(
      () => s.loadLayer(1, [4, 4, 4]),
      (e: unknown) => e instanceof UserError && e.message.startsWith(path) && /truncated/.test(e.message),
    );
    rmSync(path);
    assert.throws(
      () => s.loadLayer(1, [4, 4, 4]),
      (e: unknown) => e instanceof UserError && e.message.startsWith(path) && /missing/.test(e.message),
    );
    // A well-formed file of another format version, with a manifest that vouches for it.
    const other = Buffer.from(original);
    other.writeUInt16LE(99, 4);
    writeFileSync(path, other);
    const manifest = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8'));
    manifest.files[entry.file].sha256 = sha256(other);
    manifest.digest = manifestDigest(manifest);
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(manifest));
    assert.throws(
      () => ShardStore.open(copy).loadLayer(1, [4, 4, 4]),
      (e: unknown) => e instanceof UserError && e.message.startsWith(path) && /format version 99/.test(e.message),
    );
    manifest.version = STORE_VERSION + 1;
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(manifest));
    assert.throws(
      () => ShardStore.open(copy),
      new RegExp(`format version ${STORE_VERSION + 1}; this shardlab reads version ${STORE_VERSION}`),
    );
  });
});
