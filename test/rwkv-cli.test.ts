/** shardlab logits and families for RWKV models. */
import assert from 'node:assert/strict';
import { copyFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadBinFile } from '../engine/families/rwkv/bin-file.js';
import { writeModelDir, writeReferenceLogits } from '../engine/families/rwkv/model-dir.js';
import { shardlab, SPAM_MODEL, tempDir } from './helpers.js';
import { assertRefusedHere, shardlabHereJson } from './cli-in-process.js';
import { expectedFile, expectedLogits, modelFile, PROMPT, vector } from './rwkv-helpers.js';

const TOKENS = PROMPT.join(',');

describe('shardlab logits on rwkv.cpp files', () => {
  test('--tokens --expected --json on the 5v2 FP32 vector', async (t) => {
    const file = vector(t, modelFile('5v2-730K', 'FP32'));
    if (!file) return;
    const out = await shardlabHereJson('logits', '--model', file, '--tokens', TOKENS, '--expected', expectedFile('5v2-730K'), '--json');
    assert.equal(out.version, '5.2');
    assert.deepEqual(out.tokens, PROMPT);
    assert.ok((out.maxAbsDiff as number) <= 1e-5);
    assert.ok(Math.abs(out.sumDiff as number) <= 1.05e-3);
    assert.equal(out.argmaxMatch, true);
  });

  test('a quantized file exits 2 with one line', async (t) => {
    const file = vector(t, modelFile('5v2-730K', 'FP16'));
    if (!file) return;
    const q = join(tempDir(), 'q.bin');
    copyFileSync(file, q);
    const fd = openSync(q, 'r+');
    writeSync(fd, Buffer.from([7, 0, 0, 0]), 0, 4, 20);
    closeSync(fd);
    await assertRefusedHere(
      ['logits', '--model', q, '--tokens', TOKENS],
      /Q5_0, a quantized rwkv\.cpp format .*convert the model to FP16 or FP32/,
    );
  });

  test('missing or bad --tokens exits 2 with one line', async (t) => {
    const file = vector(t, modelFile('5v2-730K', 'FP32'));
    if (!file) return;
    await assertRefusedHere(['logits', '--model', file, '--expected', expectedFile('5v2-730K')], /--expected needs --tokens/);
    await assertRefusedHere(['logits', '--model', file], /needs --tokens LIST .* or --reference/);
    await assertRefusedHere(['logits', '--model', file, '--tokens', '34,x'], /--tokens takes comma-separated token ids/);
    await assertRefusedHere(['logits', '--model', file, '--tokens', '34,256'], /token 256 is not below the model's vocabulary of 256/);
    await assertRefusedHere(['logits', '--model', file, '--reference'], /has no reference-logits\.json/);
  });
});

describe('shardlab logits --reference on an RWKV model directory', () => {
  test("passes against rwkv.cpp's logits, fails (exit 1) against wrong ones", async (t) => {
    const file = vector(t, modelFile('5v2-730K', 'FP32'));
    if (!file) return;
    const dir = join(tempDir(), 'rwkv');
    writeModelDir(dir, loadBinFile(file), { f16: false });
    const logits = expectedLogits('5v2-730K');
    writeReferenceLogits(dir, [{ text: '"in', tokens: PROMPT, logits }]);
    const out = await shardlabHereJson('logits', '--model', dir, '--reference', '--json');
    assert.ok((out.maxAbsDiff as number) <= 1e-5);
    logits[3] += 0.01;
    writeReferenceLogits(dir, [{ text: '"in', tokens: PROMPT, logits }]);
    // A spawned process (the others run in this one, cli-in-process.ts): exit 1 through bin/shardlab.js.
    const r = shardlab('logits', '--model', dir, '--reference');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /maxAbsDiff\s+1\.00e-2 \(above 0\.0001\)/);
  });
});

test('BERT models still need --reference', async () => {
  await assertRefusedHere(['logits', '--model', SPAM_MODEL], /BERT model needs --reference/);
});

test('shardlab families lists rwkv; an RWKV plan asks for its own request, and an rwkv.cpp file is not a model directory', async (t) => {
  const fams = await shardlabHereJson<{ id: string; planners: unknown[] }[]>('families', '--json');
  assert.deepEqual(
    fams.map((f) => f.id),
    ['bert', 'rwkv'],
  );
  assert.deepEqual(fams[1].planners, []);
  const file = vector(t, modelFile('4v0-660K', 'FP32'));
  if (!file) return;
  await assertRefusedHere(['plan', '--model', file, '--soc', 'odroid-n2plus', '--target-ms', '100'], /an RWKV plan needs --memory-mb/);
  await assertRefusedHere(['plan', '--model', file, '--soc', 'odroid-n2plus', '--memory-mb', '8'], /needs an RWKV model directory/);
  await assertRefusedHere(['run', '--model', file, '--soc', 'odroid-n2plus'], /an RWKV run needs an RWKV model directory/);
});
