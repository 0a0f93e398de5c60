/**
 * The shard cache under concurrent writers and kills: two CLI processes and two worker threads sharding
 * the same checkpoint at once both get a working store; a writer killed mid-way leaves nothing behind
 * after the next start; a damaged cached store is discarded and made again; every file of a store is
 * checked (`shardlab verify`).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { encodeSafetensors, readSafetensors } from '../engine/core/safetensors.js';
import { verifyStoreFiles } from '../engine/families/bert/shard-store.js';
import { ROOT, SPAM_MODEL, tempDir } from './helpers.js';

const PLAN = ['plan', '--soc', 'odroid-n2plus', '--target-ms', '100', '--planner', 'stdpl-4', '--json'];

/**
 * A private one-layer copy of the spam checkpoint (its own checksum, so its own cache entry) and a fresh
 * data folder. What is tested is how a store is made, shared and healed, which does not depend on depth;
 * one layer shards in a third of the time of four.
 */
function fresh({ keepLogits = false } = {}): { model: string; home: string } {
  const model = join(tempDir(), 'model');
  cpSync(SPAM_MODEL, model, { recursive: true });
  const tensors = readSafetensors(join(SPAM_MODEL, 'model.safetensors'));
  const kept = Object.fromEntries([...tensors].filter(([name]) => !/\.encoder\.layer\.[1-9]/.test(name)));
  writeFileSync(
    join(model, 'model.safetensors'),
    encodeSafetensors(kept, () => 'F16'),
  );
  const cfg = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(model, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 1, _copy: model }, null, 2));
  // The four-layer model's logits: removed, unless a test only needs the file there (to be copied and checksummed).
  if (!keepLogits) rmSync(join(model, 'reference-logits.json'));
  return { model, home: tempDir('shardlab-home-') };
}

// These tests watch a cache being made: each uses a fresh one in its own data directory.
delete process.env.SHARDLAB_CACHE;

function cli(home: string, args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'bin/shardlab.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, SHARDLAB_HOME: home },
  });
}

function cacheEntries(home: string): string[] {
  const dir = join(home, 'shards');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe('shard cache', () => {
  test('two CLI processes sharding the same checkpoint at once both plan, and leave one store', async () => {
    const { model, home } = fresh();
    const run = () =>
      new Promise<{ code: number | null; out: string; err: string }>((done) => {
        const p = spawn(process.execPath, [join(ROOT, 'bin/shardlab.js'), ...PLAN, '--model', model], {
          env: { ...process.env, SHARDLAB_HOME: home },
        });
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        p.on('close', (code) => done({ code, out, err }));
      });
    const [a, b] = await Promise.all([run(), run()]);
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    const plan = (out: string) => ({ ...(JSON.parse(out) as Record<string, unknown>), planMs: 0 });
    assert.deepEqual(plan(a.out), plan(b.out));
    const entries = cacheEntries(home);
    assert.equal(entries.length, 1, `cache holds ${entries.join(', ')}`);
    assert.equal(cli(home, ['verify', join(home, 'shards', entries[0])]).status, 0);
  });

  test('two worker threads of one process sharding the same checkpoint at once both open it', async () => {
    const { model, home } = fresh();
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      process.env.SHARDLAB_HOME = workerData.home;
      import(workerData.open).then((m) => parentPort.postMessage(m.openStore(workerData.model).checksum), (e) => parentPort.postMessage('error: ' + e.message));`;
    const open = join(ROOT, 'dist/engine/families/bert/open.js');
    const worker = () =>
      new Promise<string>((done, fail) => {
        const w = new Worker(code, { eval: true, workerData: { home, model, open }, env: { ...process.env, SHARDLAB_HOME: home } });
        w.once('message', (m: string) => {
          done(m);
          void w.terminate();
        });
        w.once('error', fail);
      });
    const [a, b] = await Promise.all([worker(), worker()]);
    assert.doesNotMatch(a, /^error/);
    assert.equal(a, b);
    assert.deepEqual(cacheEntries(home), [a]);
  });

  test('a writer killed mid-sharding leaves nothing behind after the next start; a damaged cached store is made again', async () => {
    const { model, home } = fresh();
    const p = spawn(process.execPath, [join(ROOT, 'bin/shardlab.js'), ...PLAN, '--model', model], {
      env: { ...process.env, SHARDLAB_HOME: home },
    });
    // Kill it once its temporary folder exists (sharding has started).
    for (let i = 0; i < 600 && !cacheEntries(home).some((e) => e.includes('.tmp-')); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      cacheEntries(home).some((e) => e.includes('.tmp-')),
      'sharding started',
    );
    p.kill('SIGKILL');
    await new Promise((r) => p.once('close', r));
    const again = cli(home, [...PLAN, '--model', model]);
    assert.equal(again.status, 0, again.stderr);
    const entries = cacheEntries(home);
    assert.equal(entries.length, 1, `after the restart the cache holds ${entries.join(', ')}`);
    // Damage one shard of the cached store: the run that meets it says so and discards it; the next run re-makes it.
    const store = join(home, 'shards', entries[0]);
    const shard = join(store, 'layer-00/slice-00.b4.shard');
    const bytes = readFileSync(shard);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(shard, bytes);
    const run = ['run', '--soc', 'odroid-n2plus', '--model', model, '--paradigm', 'layerwise', '--bits', '4', '--json'];
    const hit = cli(home, run);
    assert.equal(hit.status, 2);
    assert.match(
      hit.stderr,
      /slice-00\.b4\.shard: checksum mismatch, the file is corrupt; the cached store was discarded and is made again on the next run/,
    );
    const healed = cli(home, run);
    assert.equal(healed.status, 0, healed.stderr);
    assert.equal(cli(home, ['verify', store]).status, 0);
  });

  test('shardlab verify checks every file kind of a store; a flipped bit in any of them is found (exit 1)', () => {
    // The one-layer copy has every file kind of a store (and the fixture's reference-logits.json as a file to checksum;
    // with --no-eval nothing compares with it): sharding and verifying it is a quarter of the work of four layers.
    const { model, home } = fresh({ keepLogits: true });
    const store = join(tempDir(), 'store');
    assert.equal(cli(home, ['shard', '--model', model, '--out', store, '--bits', '2,32', '--no-eval', '--json']).status, 0);
    const manifest = JSON.parse(readFileSync(join(store, 'manifest.json'), 'utf8')) as { files: Record<string, unknown> };
    const kinds = new Map<string, string>();
    for (const f of Object.keys(manifest.files)) kinds.set(f.replace(/\d+/g, 'N'), f);
    assert.ok(kinds.size >= 8, `file kinds: ${[...kinds.keys()].join(', ')}`);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'reference-logits.json', 'base.safetensors'])
      assert.ok(f in manifest.files, `${f} is checksummed`);
    // Through the CLI (exit 1, the line on stdout) for config.json, which the CLI reads to know the store's family,
    // and one shard; the other kinds through the check the CLI prints (verifyStoreFiles), without a process each.
    const viaCli = new Set(['config.json', kinds.get('layer-N/slice-N.bN.shard')]);
    for (const file of kinds.values()) {
      const path = join(store, file);
      const original = readFileSync(path);
      const flipped = Buffer.from(original);
      flipped[Math.floor(original.length / 2)] ^= 0x10;
      writeFileSync(path, flipped);
      const mismatch = new RegExp(`${file.replace(/[.]/g, '\\.')}: checksum mismatch`);
      if (viaCli.has(file)) {
        const r = cli(home, ['verify', store]);
        writeFileSync(path, original);
        assert.equal(r.status, 1, `${file}: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout, mismatch);
      } else {
        const { problems } = verifyStoreFiles(store);
        writeFileSync(path, original);
        assert.ok(problems.length > 0, `${file}: no problem found`);
        assert.match(problems.join('\n'), mismatch);
      }
    }
    assert.equal(viaCli.size, 2);
    assert.equal(cli(home, ['verify', store]).status, 0);
  });
});
