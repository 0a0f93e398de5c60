import assert from 'node:assert/strict';
import { readFileSync, rmSync, truncateSync, writeFileSync, statSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { copyModel, shardlab, SOTU_MODEL, SPAM_MODEL, tempDir } from './helpers.js';
import { assertRefused } from './refused.js';

describe('shardlab eval', () => {
  test('--json prints one object with accuracy, examples, layers, slices', () => {
    const r = shardlab('eval', '--model', SPAM_MODEL, '--limit', '40', '--layers', '2', '--slices', '4', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.examples, 40);
    assert.equal(out.layers, 2);
    assert.equal(out.slices, 4);
    assert.equal(out.split, 'dev');
    assert.ok(out.accuracy >= 0 && out.accuracy <= 1);
    assert.ok(out.examplesPerSecond > 0);
  });

  test('defaults to the full model and prints a readable summary', () => {
    const r = shardlab('eval', '--model', SOTU_MODEL, '--split', 'test', '--limit', '20');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /accuracy\s+\d+\.\d\d %/);
    assert.match(r.stdout, /4\/4 layers x 8\/8 slices/);
  });
});

test('shardlab logits --reference reports maxAbsDiff within 1e-4', () => {
  for (const model of [SPAM_MODEL, SOTU_MODEL]) {
    const r = shardlab('logits', '--model', model, '--reference', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).maxAbsDiff <= 1e-4);
  }
});

describe('bad input is refused with one line and exit code 2', () => {
  test('a model directory that does not exist', () => assertRefused(['eval', '--model', '/nonexistent/model'], /no such directory/));
  test('a directory that is not a model', () => assertRefused(['eval', '--model', tempDir()], /not a model directory/));

  test('a missing weights file', () => {
    const dir = copyModel(SPAM_MODEL);
    rmSync(join(dir, 'model.safetensors'));
    assertRefused(['eval', '--model', dir], /model\.safetensors: missing/);
  });

  test('a truncated safetensors file', () => {
    const dir = copyModel(SPAM_MODEL);
    const file = join(dir, 'model.safetensors');
    truncateSync(file, Math.floor(statSync(file).size / 2));
    assertRefused(['eval', '--model', dir], /model\.safetensors: truncated/);
  });

  test('a corrupt safetensors header', () => {
    const dir = copyModel(SPAM_MODEL);
    const fd = openSync(join(dir, 'model.safetensors'), 'r+');
    writeSync(fd, Buffer.from('garbage!'), 0, 8, 12);
    closeSync(fd);
    assertRefused(['eval', '--model', dir], /model\.safetensors: corrupt/);
  });

  test('a config that does not match the weights', () => {
    const dir = copyModel(SPAM_MODEL);
    const file = join(dir, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...config, intermediate_size: 512 }));
    assertRefused(['eval', '--model', dir], /config and weights do not match/);
  });

  test('a config that is not JSON', () => {
    const dir = copyModel(SPAM_MODEL);
    writeFileSync(join(dir, 'config.json'), '{ not json');
    assertRefused(['eval', '--model', dir], /config\.json: not valid JSON/);
  });

  test('an unknown split', () => assertRefused(['eval', '--model', SPAM_MODEL, '--split', 'validation'], /unknown split "validation"/));
  test('layers beyond the model', () =>
    assertRefused(['eval', '--model', SPAM_MODEL, '--layers', '9'], /--layers must be an integer from 1 to 4/));
  test('a non-numeric limit', () => assertRefused(['eval', '--model', SPAM_MODEL, '--limit', 'ten'], /--limit takes a positive integer/));
});
