/** shardlab memory on the RWKV-5 World presets and on a model directory. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { lowRankModel, writeLowRankDir } from '../engine/families/rwkv/compress/lowrank-model.js';
import { writeModelDir } from '../engine/families/rwkv/model-dir.js';
import { randomWeights } from '../engine/families/rwkv/random-model.js';
import { shardlab, tempDir } from './helpers.js';
import { assertRefusedHere, shardlabHereJson } from './cli-in-process.js';

interface MemoryOut {
  residentBytes: number;
  denseBytes: number;
  ratio: number;
  byCategory: Record<string, { dense: number; resident: number }>;
  techniques: string[];
  setting: { lowrank?: { factor: number; kind: string } };
  defaults: { flag: string; value: string; source: string }[];
  stateBytes: number;
}

const MIB = 2 ** 20;
let model = '';

describe('shardlab memory', () => {
  before(() => {
    model = join(tempDir(), 'rwkv-small');
    writeModelDir(model, randomWeights({ version: '5.2', layers: 2, embd: 32, headSize: 8, ffn: 112, vocab: 300, groupNormEps: 64e-5 }, 1));
  });

  test("a preset without flags: the paper's combination, each default named with its source", async () => {
    const r = await shardlabHereJson<MemoryOut>('memory', '--model', 'rwkv5-world-0.1b', '--json');
    assert.deepEqual(r.techniques, ['lowrank', 'sparse-ffn', 'emb-cache', 'cluster-head']);
    assert.ok(Math.abs(r.residentBytes / MIB - 77) < 1 && r.ratio.toFixed(1) === '4.8');
    const sum = (k: 'dense' | 'resident') => Object.values(r.byCategory).reduce((a, c) => a + c[k], 0);
    assert.equal(sum('dense'), r.denseBytes);
    assert.equal(sum('resident'), r.residentBytes);
    assert.deepEqual(
      r.defaults.map((d) => d.flag),
      ['--lowrank', '--lowrank-kind', '--predictor', '--emb-cache', '--head-clusters', '--predictor-density', '--head-touched'],
    );
    assert.ok(r.defaults.every((d) => /§\d/.test(d.source)));
  });

  test('explicit flags switch on only their techniques and replace the defaults', async () => {
    const r = await shardlabHereJson<MemoryOut>('memory', '--model', 'rwkv5-world-0.4b', '--lowrank', '8', '--json');
    assert.deepEqual(r.techniques, ['lowrank']);
    assert.deepEqual(
      r.defaults.map((d) => d.flag),
      ['--lowrank-kind'],
    );
    assert.ok(Math.abs(r.residentBytes / MIB - 701) < 1);
    const none = await shardlabHereJson<MemoryOut>(
      'memory',
      '--model',
      'rwkv5-world-0.4b',
      '--techniques',
      'none',
      '--dtype',
      'fp32',
      '--json',
    );
    assert.equal(none.ratio, 1);
    assert.equal(none.denseBytes, 4 * 461_721_600);
    const int8 = await shardlabHereJson<MemoryOut>('memory', '--model', 'rwkv5-world-0.4b', '--techniques', 'all', '--int8', '--json');
    assert.ok(int8.techniques.includes('int8') && int8.ratio > 6);
  });

  test('a model directory is accounted from its config.json; the table says which defaults it used', async () => {
    const r = await shardlabHereJson<MemoryOut>('memory', '--model', model, '--techniques', 'none', '--json');
    const params = 2 * 300 * 32 + 2 * (5 * 32 * 32 + 2 * 112 * 32 + 32 * 32 + 14 * 32) + 4 * 32;
    assert.equal(r.denseBytes, 2 * params);
    const perLayer = await shardlabHereJson<MemoryOut>('memory', '--model', model, '--predictor-density', '0.5,1', '--json');
    assert.equal(perLayer.byCategory.ffnKeyValue.resident, 0.75 * perLayer.byCategory.ffnKeyValue.dense);
    // A spawned process (the others run in this one, cli-in-process.ts): the table as printed.
    const text = shardlab('memory', '--model', model, '--head-clusters', '10');
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /total \(weights\)\s+[\d.]+\s+[\d.]+\s+[\d.]+× less than dense fp16/);
    assert.match(text.stdout, /defaults used[\s\S]*--head-touched 0\.13: §3\.4/);
  });

  test('a low-rank directory counts its factors whatever the flags; its factor cannot be changed', async () => {
    const w = randomWeights({ version: '5.2', layers: 2, embd: 32, headSize: 8, ffn: 112, vocab: 300, groupNormEps: 64e-5 }, 1);
    const factored = join(tempDir(), 'rwkv-lowrank');
    writeLowRankDir(factored, lowRankModel(w, { factor: 4, kind: 'linear' }), {});
    const r = await shardlabHereJson<MemoryOut>('memory', '--model', factored, '--techniques', 'none', '--json');
    assert.deepEqual(r.techniques, ['lowrank']);
    assert.deepEqual(r.setting.lowrank, { factor: 4, kind: 'linear' });
    assert.deepEqual(r.defaults, []);
    const dense = await shardlabHereJson<MemoryOut>('memory', '--model', model, '--lowrank', '4', '--json');
    assert.equal(r.residentBytes, dense.residentBytes);
    await assertRefusedHere(['memory', '--model', factored, '--lowrank', '8'], /factored at f = 4 .*cannot change that/);
  });

  test('bad flags exit 2 with one line', async () => {
    await assertRefusedHere(['memory', '--model', 'rwkv5-world-0.1b', '--techniques', 'pruning'], /unknown technique "pruning"/);
    await assertRefusedHere(
      ['memory', '--model', 'rwkv5-world-0.1b', '--predictor-density', '0.2,0.3'],
      /give one, or one per layer \(12\)/,
    );
    await assertRefusedHere(['memory', '--model', 'rwkv5-world-0.1b', '--head-touched', '2'], /--head-touched takes a fraction/);
    await assertRefusedHere(['memory', '--model', 'rwkv5-world-0.1b', '--lowrank', '0.5'], /--lowrank takes a factor/);
    await assertRefusedHere(['memory', '--model', 'rwkv5-world-0.1b', '--dtype', 'bf16'], /use fp32 or fp16/);
    await assertRefusedHere(['memory', '--model', model, '--head-clusters', '301'], /more than the vocabulary \(300\)/);
    await assertRefusedHere(['memory', '--model', 'rwkv5-world-7b'], /no model "rwkv5-world-7b"/);
    await assertRefusedHere(
      ['memory', '--model', 'rwkv5-world-0.1b', '--emb-cache', '1000:random'],
      /--emb-cache "1000:random": use N\[:fifo\|lru\]/,
    );
    await assertRefusedHere(['memory', '--model', 'rwkv5-world-0.1b', '--lowrank-kind', 'cubic'], /use linear \(x058\) or relu2 \(x059\)/);
    await assertRefusedHere(['memory', '--model', 'rwkv5-world-0.1b', '--predictor', 'quant:3:0.9'], /takes 1, 2 or 4 bits/);
  });
});
