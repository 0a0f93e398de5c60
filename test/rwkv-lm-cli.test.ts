/** shardlab lm-eval and generate on an RWKV model directory (random weights, a small real vocabulary). */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { lowRankModel, writeLowRankDir } from '../engine/families/rwkv/compress/lowrank-model.js';
import { loadModelDir, writeModelDir } from '../engine/families/rwkv/model-dir.js';
import { randomWeights } from '../engine/families/rwkv/random-model.js';
import { Gpt2Bpe, GPT2_EOT } from '../engine/families/rwkv/tokenizer.js';
import { shardlab, tempDir } from './helpers.js';
import { assertRefusedHere, shardlabHereJson } from './cli-in-process.js';

let model = '';
let db = '';

/** A 2-layer RWKV-5.2 with a 300-token vocabulary: end-of-text, the 256 bytes and 43 common GPT-2 tokens. */
function makeModel(): string {
  const bpe = Gpt2Bpe.load();
  const common = [...new Set(bpe.encode(' the of and to in a that is for be this with as on by we it have our'))];
  const vocab = [GPT2_EOT, ...Array.from({ length: 256 }, (_, b) => bpe.byteId(b)), ...common].slice(0, 300);
  const dir = join(tempDir(), 'rwkv-tiny');
  const shape = { version: '5.2' as const, layers: 2, embd: 32, headSize: 8, ffn: 64, vocab: vocab.length, groupNormEps: 64e-5 };
  writeModelDir(dir, randomWeights(shape, 3), { f16: true });
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  return dir;
}

describe('shardlab lm-eval and generate', () => {
  before(() => {
    model = makeModel();
    db = join(tempDir(), 'lm.db');
  });

  test('lm-eval --limit scores a stratified sample, and the second run is answered from the store', async () => {
    const first = await shardlabHereJson('lm-eval', '--model', model, '--limit', '6', '--db', db, '--json');
    assert.equal(first.split, 'dev~strat6');
    assert.equal(first.passages, 6);
    assert.equal(first.cached, false);
    assert.ok((first.tokens as number) > 100);
    // Random weights: perplexity is finite and near the vocabulary size, not below it by much.
    assert.ok((first.perplexity as number) > 50 && Number.isFinite(first.perplexity as number));
    for (const k of ['nextTokenAccuracy', 'lastWordAccuracy']) assert.ok((first[k] as number) >= 0 && (first[k] as number) <= 1);
    const again = await shardlabHereJson('lm-eval', '--model', model, '--limit', '6', '--db', db, '--json');
    assert.equal(again.cached, true);
    for (const k of ['perplexity', 'nextTokenAccuracy', 'lastWordAccuracy', 'tokens', 'lastWordItems']) assert.equal(again[k], first[k]);
  });

  test('generate is deterministic with a seed and streams the prompt and text', async () => {
    // In process; the greedy run below is a spawned process (the text streamed to stdout, the summary to stderr).
    const run = (seed: string) =>
      shardlabHereJson('generate', '--model', model, '--prompt', 'The Union', '--tokens', '12', '--seed', seed, '--json');
    const a = await run('7');
    assert.equal((a.tokens as number[]).length, 12);
    assert.deepEqual((await run('7')).tokens, a.tokens);
    assert.notDeepEqual((await run('8')).tokens, a.tokens);
    const greedy = shardlab('generate', '--model', model, '--prompt', 'The Union', '--tokens', '5', '--temperature', '0');
    assert.equal(greedy.status, 0);
    assert.ok(greedy.stdout.startsWith('The Union'));
    assert.match(greedy.stderr, /5 tokens at [\d.]+ tokens\/s .*seed \d+, temperature 0/);
  });

  test('bad flags and files exit 2 with one line', async () => {
    await assertRefusedHere(['lm-eval', '--model', model, '--split', 'train'], /use dev or test/);
    await assertRefusedHere(['generate', '--model', model, '--prompt', 'x', '--top-p', '0'], /--top-p takes a number above 0/);
    await assertRefusedHere(['generate', '--model', model, '--prompt', 'x', '--seed', '-1'], /--seed takes an integer/);
    const noVocab = join(tempDir(), 'no-vocab');
    writeModelDir(noVocab, randomWeights({ version: '5.2', layers: 1, embd: 16, headSize: 8, ffn: 32, vocab: 300, groupNormEps: 1e-5 }, 1));
    await assertRefusedHere(['lm-eval', '--model', noVocab, '--limit', '2'], /vocab\.json: missing/);
  });

  test('compress writes a directory that runs with its techniques; lm-eval measures them; memory reads the measurement', async () => {
    const out = join(tempDir(), 'compressed');
    const flags = ['--techniques', 'emb-cache,int8', '--predictor', 'quant:1:0.9', '--lowrank', '4', '--lowrank-kind', 'linear'];
    const c = await shardlabHereJson('compress', '--model', model, '--out', out, ...flags, '--json');
    assert.deepEqual(c.techniques, ['lowrank', 'sparse-ffn', 'emb-cache', 'int8']);
    assert.match((c.sources as Record<string, string>).lowrank, /untrained SVD initialisation \(no continually trained .*-lowrank4-linear/);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).lowrank, { factor: 4, rank: 8, kind: 'linear' });
    const r = await shardlabHereJson('lm-eval', '--model', out, '--limit', '4', '--db', db, '--json');
    assert.deepEqual(r.techniques, ['lowrank', 'sparse-ffn', 'emb-cache', 'int8']);
    assert.equal((r.ffn as unknown[]).length, 2);
    const cache = r.embCache as { rows: number; policy: string; hitRate: number; lookups: number };
    assert.ok(cache.rows === 1000 && cache.policy === 'fifo' && cache.hitRate > 0 && cache.hitRate < 1 && cache.lookups > 50);
    // Flags override what the directory has built in; its factors stay, whatever --techniques says.
    const plain = await shardlabHereJson('lm-eval', '--model', out, '--limit', '4', '--db', db, '--techniques', 'none', '--json');
    assert.deepEqual(plain.techniques, ['lowrank']);
    const m = (await shardlabHereJson('memory', '--model', out, '--db', db, '--json')) as {
      statistics: { sparseFfn: { density: { source: string } } };
    };
    assert.match(m.statistics.sparseFfn.density.source, /measured by shardlab lm-eval on .* \(dev~strat4, \d+ tokens\)/);
  });

  test('a continually trained DIR-lowrank<f>-<kind> beside the model is used unless --lowrank-init svd', async () => {
    const trained = `${model}-lowrank4-relu2`;
    writeLowRankDir(trained, lowRankModel(loadModelDir(model), { factor: 4, kind: 'relu2' }), { f16: true });
    copyFileSync(join(model, 'vocab.json'), join(trained, 'vocab.json'));
    const run = (...extra: string[]) =>
      shardlabHereJson<{ sources: { lowrank: string } }>(
        'lm-eval',
        '--model',
        model,
        '--limit',
        '3',
        '--db',
        db,
        '--lowrank',
        '4',
        ...extra,
        '--json',
      );
    assert.match((await run()).sources.lowrank, /continually trained: .*-lowrank4-relu2/);
    assert.match((await run('--lowrank-init', 'svd')).sources.lowrank, /untrained SVD initialisation \(--lowrank-init svd\)/);
  });

  test('compress refuses, writing nothing, when an artefact is missing or --out holds files', async () => {
    const out = join(tempDir(), 'never');
    await assertRefusedHere(
      ['compress', '--model', model, '--out', out, '--techniques', 'all'],
      /predictors\.safetensors: missing; .*predictors\.py/,
    );
    assert.equal(existsSync(out), false);
    await assertRefusedHere(['compress', '--model', model, '--out', model, '--techniques', 'int8'], /exists and is not an empty directory/);
    await assertRefusedHere(['lm-eval', '--model', model, '--techniques', 'lowrank,pruning'], /unknown technique "pruning"/);
  });
});
