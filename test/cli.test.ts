import assert from 'node:assert/strict';
import { readFileSync, rmSync, truncateSync, writeFileSync, statSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { copyModel, shardlab, SOTU_MODEL, SPAM_MODEL, tempDir } from './helpers.js';
import { assertRefused } from './refused.js';
import { Refusals } from './refusals.js';
import { UserError } from '../engine/core/errors.js';
import { reportError } from '../engine/cli/main.js';

describe('shardlab eval', () => {
  test('--json prints one object with accuracy, examples, layers, slices', () => {
    const r = shardlab('eval', '--model', SPAM_MODEL, '--limit', '40', '--layers', '2', '--slices', '4', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.examples, 40);
    assert.equal(out.layers, 2);
    assert.equal(out.slices, 4);
    assert.equal(out.split, 'dev~strat40', 'a quick run names its stratified sample');
    assert.ok(out.accuracy >= 0 && out.accuracy <= 1);
    assert.ok(out.accuracyInterval.low <= out.accuracy && out.accuracy <= out.accuracyInterval.high);
    assert.ok(out.examplesPerSecond > 0);
  });

  test('defaults to the full model and prints a readable summary', () => {
    const r = shardlab('eval', '--model', SOTU_MODEL, '--split', 'test', '--limit', '20');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /accuracy\s+\d+\.\d\d % ± \d+\.\d\d \(95 % interval/);
    assert.match(r.stdout, /split\s+test~strat20, 20 examples \(a fixed stratified sample\)/);
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
  // Every case but the first runs through the CLI's main in one process (refusals.ts); each test checks its own.
  const refusals = new Refusals();
  const check: Record<string, () => void> = {};
  /** A copy of the spam model, edited. */
  const edited = (edit: (dir: string) => void): string => {
    const dir = copyModel(SPAM_MODEL);
    edit(dir);
    return dir;
  };
  const editJson = (file: string, edit: (json: Record<string, unknown>) => Record<string, unknown>, space?: number) =>
    writeFileSync(file, JSON.stringify(edit(JSON.parse(readFileSync(file, 'utf8'))), null, space));
  before(() => {
    check.notModel = refusals.add(['eval', '--model', tempDir()], /not a model directory/);
    check.missing = refusals.add(
      ['eval', '--model', edited((dir) => rmSync(join(dir, 'model.safetensors')))],
      /model\.safetensors: missing/,
    );
    const truncated = edited((dir) => {
      const file = join(dir, 'model.safetensors');
      truncateSync(file, Math.floor(statSync(file).size / 2));
    });
    check.truncated = refusals.add(['eval', '--model', truncated], /model\.safetensors: truncated/);
    const corrupt = edited((dir) => {
      const fd = openSync(join(dir, 'model.safetensors'), 'r+');
      writeSync(fd, Buffer.from('garbage!'), 0, 8, 12);
      closeSync(fd);
    });
    check.corrupt = refusals.add(['eval', '--model', corrupt], /model\.safetensors: corrupt/);
    const mismatch = edited((dir) => editJson(join(dir, 'config.json'), (c) => ({ ...c, intermediate_size: 512 })));
    check.mismatch = refusals.add(['eval', '--model', mismatch], /config and weights do not match/);
    const notJson = edited((dir) => writeFileSync(join(dir, 'config.json'), '{ not json'));
    check.notJson = refusals.add(['eval', '--model', notJson], /config\.json: not valid JSON/);
    const tokenizer = (from: string, to: string, all: boolean) =>
      edited((dir) => {
        const file = join(dir, 'tokenizer.json');
        const text = readFileSync(file, 'utf8');
        writeFileSync(file, all ? text.replaceAll(from, to) : text.replace(from, to));
      });
    check.noContent = refusals.add(
      ['eval', '--model', tokenizer('"content"', '"contenu"', true), '--limit', '2'],
      /tokenizer\.json: added_tokens: an entry has no content string/,
    );
    check.normaliser = refusals.add(
      ['eval', '--model', tokenizer('"BertNormalizer"', '"BertNormaliser"', false), '--limit', '2'],
      /tokenizer\.json .*: the tokenizer cannot be built from it \(Unknown Normalizer type: BertNormaliser\)/,
    );
    const vocab = edited((dir) =>
      editJson(join(dir, 'tokenizer.json'), (t) => {
        (t as { model: { vocab: Record<string, number> } }).model.vocab.inc = 9028;
        return t;
      }),
    );
    check.vocab = refusals.add(
      ['eval', '--model', vocab, '--limit', '2'],
      /tokenizer\.json: model\.vocab token "inc" has id 9028; ids must be integers from 0 to 7999/,
    );
    const nullHeader = edited((dir) => {
      const file = join(dir, 'model.safetensors');
      const bytes = readFileSync(file);
      Buffer.from('null'.padEnd(Number(bytes.readBigUInt64LE(0)))).copy(bytes, 8);
      writeFileSync(file, bytes);
    });
    check.nullHeader = refusals.add(
      ['eval', '--model', nullHeader],
      /model\.safetensors: corrupt: the header is not a JSON object of tensors/,
    );
    const huge = edited((dir) => editJson(join(dir, 'config.json'), (c) => ({ ...c, hidden_size: 8 * 2 ** 30 })));
    check.huge = refusals.add(['eval', '--model', huge], /config\.json: hidden_size: must be at most 65536 \(got 8589934592\)/);
    const positions = edited((dir) => editJson(join(dir, 'config.json'), (c) => ({ ...c, max_position_embeddings: 4096 }), 2));
    check.positions = refusals.add(
      ['eval', '--model', positions],
      /position_embeddings\.weight" has shape \[128, 256\] but .* implies \[4096, 256\]; config and weights do not match/,
    );
    const lines = edited((dir) => writeFileSync(join(dir, 'config.json'), '{\n  "model_type": "bert",\n  "vocab_size": x8000\n}'));
    check.lines = refusals.add(['eval', '--model', lines], /config\.json: not valid JSON/);
    check.split = refusals.add(['eval', '--model', SPAM_MODEL, '--split', 'validation'], /unknown split "validation"/);
    check.layers = refusals.add(['eval', '--model', SPAM_MODEL, '--layers', '9'], /--layers must be an integer from 1 to 4/);
    check.limit = refusals.add(['eval', '--model', SPAM_MODEL, '--limit', 'ten'], /--limit takes a positive integer/);
    refusals.run();
  });

  test('a model directory that does not exist', () => assertRefused(['eval', '--model', '/nonexistent/model'], /no such directory/));
  test('a directory that is not a model', () => check.notModel());
  test('a missing weights file', () => check.missing());
  test('a truncated safetensors file', () => check.truncated());
  test('a corrupt safetensors header', () => check.corrupt());
  test('a config that does not match the weights', () => check.mismatch());
  test('a config that is not JSON', () => check.notJson());
  test('a tokenizer.json the tokenizer library cannot build', () => {
    check.noContent();
    check.normaliser();
  });
  test('a vocabulary id past vocab_size', () => check.vocab());
  test('a safetensors header that is null', () => check.nullHeader());
  test('a config with a huge hidden_size, refused before anything is allocated', () => {
    check.huge();
    check.positions();
  });
  test('a config that is not JSON, in a message V8 spreads over lines, is one line', () => check.lines());
  test('an unknown split', () => check.split());
  test('layers beyond the model', () => check.layers());
  test('a non-numeric limit', () => check.limit());
});

describe('the last resort for errors that reach the top', () => {
  const captured = (e: unknown): { code: number; lines: string[] } => {
    const lines: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
    try {
      return { code: reportError(e), lines: lines.join('\n').split('\n') };
    } finally {
      console.error = original;
    }
  };

  test('bad input: one line, exit code 2', () => {
    const { code, lines } = captured(new UserError('x.json: bad\nthing'));
    assert.equal(code, 2);
    assert.deepEqual(lines, ['shardlab: x.json: bad thing']);
  });

  test('anything else is a bug: said so, with its stack, exit code 1', () => {
    const { code, lines } = captured(new TypeError("Cannot read properties of undefined (reading 'length')"));
    assert.equal(code, 1);
    assert.equal(lines[0], "shardlab: internal error (a bug, please report it): Cannot read properties of undefined (reading 'length')");
    assert.match(lines[1], /^TypeError: /);
    assert.match(lines[2], /^\s+at /);
    assert.equal(captured('a string').lines[0], 'shardlab: internal error (a bug, please report it): a string');
  });
});

describe('npm start --port', async () => {
  const { DEFAULT_PORT, parsePort } = await import('../electron/start.js');
  test('a stable default port, so the browser keeps its settings; 0 for any; bad values refused', () => {
    assert.deepEqual(parsePort([]), { port: DEFAULT_PORT, asked: false });
    assert.deepEqual(parsePort(['--browser', '--port', '0']), { port: 0, asked: true });
    assert.deepEqual(parsePort(['--port', '5001']), { port: 5001, asked: true });
    for (const bad of [['--port'], ['--port', 'x'], ['--port', '70000'], ['--port', '-1']])
      assert.match((parsePort(bad) as { error: string }).error, /--port takes a port number 0\.\.65535/);
  });
});
