/**
 * Fuzzing every input file shardlab reads: valid inputs mutated (bit flips, byte insertions and
 * deletions, truncations, random JSON values at random places, huge, negative and fractional numbers,
 * wrong types) and fed to the parsers. Each input must either parse or be refused with a one-line
 * UserError: never another error type, never a hang, never an allocation beyond the input's size.
 * Deterministic (a seeded PRNG); SHARDLAB_FUZZ_SEED and SHARDLAB_FUZZ_SCALE vary the seed and the
 * number of inputs for a longer local run.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { parseJson, UserError } from '../engine/core/errors.js';
import { encodeSafetensors, parseSafetensors, parseSafetensorsHeader, type Tensor } from '../engine/core/safetensors.js';
import { parseBertConfig, readBertConfig } from '../engine/families/bert/config.js';
import { checkConfiguration } from '../engine/families/bert/configuration.js';
import { ShardStore, writeStore } from '../engine/families/bert/shard-store.js';
import { TextEncoder } from '../engine/families/bert/tokenizer.js';
import { loadBertWeights } from '../engine/families/bert/weights.js';
import { parseSocProfile } from '../engine/soc/load.js';
import { parseBaseline } from '../engine/sweep/baseline.js';
import { ROOT, SPAM_MODEL, tempDir } from './helpers.js';

const SEED = Number(process.env.SHARDLAB_FUZZ_SEED ?? 20261130);
const SCALE = Number(process.env.SHARDLAB_FUZZ_SCALE ?? 1);
/** One input taking longer than this is a hang (generous: the machine may be shared). */
const SLOW_MS = 1500;
/** SHARDLAB_FUZZ_SURVEY=1: count every failure (by kind) instead of stopping at the first. */
const SURVEY = process.env.SHARDLAB_FUZZ_SURVEY === '1';

// ---- a seeded PRNG and mutators --------------------------------------------------------------------

/** mulberry32: small, fast, deterministic. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)], chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const INTERESTING_BYTES = [0x00, 0xff, 0x7f, 0x80, 0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x30, 0x39, 0x2d, 0x0a, 0x5c];

/** 1 to 4 byte-level mutations: flips, insertions, deletions, overwrites, truncation, duplicated runs. */
function mutateBytes(input: Buffer, r: Rng): Buffer {
  let b = Buffer.from(input);
  for (let k = 1 + r.int(4); k > 0; k--) {
    const at = r.int(b.length + 1);
    switch (r.int(7)) {
      case 0: // bit flip
        if (b.length) b[Math.min(at, b.length - 1)] ^= 1 << r.int(8);
        break;
      case 1: // insert bytes
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(Array.from({ length: 1 + r.int(4) }, () => r.pick(INTERESTING_BYTES))),
          b.subarray(at),
        ]);
        break;
      case 2: // delete bytes
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + r.int(8))]);
        break;
      case 3: // overwrite with a random byte
        if (b.length) b[Math.min(at, b.length - 1)] = r.int(256);
        break;
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      case 5: {
        // duplicate a run
        const len = 1 + r.int(32);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      default: // an interesting byte
        if (b.length) b[Math.min(at, b.length - 1)] = r.pick(INTERESTING_BYTES);
    }
  }
  return b;
}

const deep = (n: number): unknown => {
  let v: unknown = 0;
  for (let i = 0; i < n; i++) v = [v];
  return v;
};

/** A random JSON value: huge, negative, fractional, zero, wrong types, deep, long, odd strings. */
function randomValue(r: Rng, near?: unknown): unknown {
  const n = typeof near === 'number' ? near : 1;
  const choices: (() => unknown)[] = [
    () => 0,
    () => -1,
    () => 1,
    () => 2,
    () => 1.5,
    () => -2.5,
    () => 1e308,
    () => -1e308,
    () => 2 ** 31,
    () => 2 ** 32,
    () => 2 ** 53 + 2,
    () => 8 * 2 ** 30,
    () => 65_536,
    () => 65_537,
    () => 1e-300,
    () => n * 2,
    () => n + 1,
    () => n - 1,
    () => -n,
    () => n * 1e6,
    () => n / 3,
    () => '',
    () => 'x',
    () => 'bert-large',
    () => String(n),
    () => 'a\nb\u0000c"\\',
    () => 'z'.repeat(10_000),
    () => null,
    () => true,
    () => false,
    () => [],
    () => ({}),
    () => [1, 2],
    () => [[-2, -3]],
    () => [1.5, 4],
    () => ['2', '3'],
    () => deep(2000),
    () => Array.from({ length: 1000 }, (_, i) => i),
    () => JSON.parse('{"__proto__": {"x": 1}, "constructor": 1}') as unknown,
  ];
  return r.pick(choices)();
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every (container, key) in a JSON value, breadth-first, at most `max` of them. */
function slots(v: unknown, max = 5000): [Record<string, unknown> | unknown[], string | number][] {
  const out: [Record<string, unknown> | unknown[], string | number][] = [];
  const queue: unknown[] = [v];
  for (let q = 0; q < queue.length && out.length < max; q++) {
    const x = queue[q];
    if (Array.isArray(x)) x.forEach((y, i) => (out.push([x, i]), queue.push(y)));
    else if (x && typeof x === 'object')
      for (const [k, y] of Object.entries(x)) {
        out.push([x as Record<string, unknown>, k]);
        queue.push(y);
      }
  }
  return out;
}

/** 1 to 3 structural mutations of a (copied) JSON value: replace, delete, add, duplicate. */
function mutateJson(input: unknown, r: Rng): unknown {
  const root = { v: structuredClone(input) as unknown };
  for (let k = 1 + r.int(3); k > 0; k--) {
    const all = slots(root.v);
    const [box, key] = all.length && !r.chance(0.03) ? r.pick(all) : [root as Record<string, unknown>, 'v'];
    const current = (box as Record<string | number, unknown>)[key];
    switch (r.int(6)) {
      case 0:
        if (Array.isArray(box)) box.splice(key as number, 1);
        else delete (box as Record<string, unknown>)[key];
        break;
      case 1:
        if (Array.isArray(box)) box.splice(key as number, 0, structuredClone(current));
        else (box as Record<string, unknown>)[`${String(key)}_${r.int(3)}`] = randomValue(r, current);
        break;
      default:
        (box as Record<string | number, unknown>)[key] = randomValue(r, current);
    }
  }
  return root.v;
}

// ---- the harness -------------------------------------------------------------------------------------

interface Tally {
  inputs: number;
  parsed: number;
  refused: number;
  maxMs: number;
  ms: number;
}

const totals = new Map<string, Tally>();

/**
 * Runs `count` inputs made by `make` through `parse`: each must return or throw a one-line UserError,
 * within SLOW_MS. A failure names the format, the seed and the input's index.
 */
function fuzz<I>(t: TestContext, format: string, count: number, make: (r: Rng, i: number) => I, parse: (input: I) => void): void {
  const r = prng(SEED ^ [...format].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
  const tally: Tally = { inputs: 0, parsed: 0, refused: 0, maxMs: 0, ms: 0 };
  const failures = new Map<string, number>();
  const n = Math.max(1, Math.round(count * SCALE));
  const began = performance.now();
  for (let i = 0; i < n; i++) {
    const input = make(r, i);
    const start = performance.now();
    let error: unknown;
    try {
      parse(input);
    } catch (e) {
      error = e;
    }
    const ms = performance.now() - start;
    const where = `${format} input ${i} (seed ${SEED})`;
    const shown = () => {
      const s = Buffer.isBuffer(input) ? input.toString('latin1') : typeof input === 'string' ? input : JSON.stringify(input);
      return (s ?? String(input)).slice(0, 400);
    };
    const problem =
      error === undefined
        ? undefined
        : !(error instanceof UserError)
          ? `${(error as Error)?.constructor?.name}: ${(error as Error)?.stack ?? String(error)}`
          : /[\n\r]/.test(error.message)
            ? `a message of several lines: ${JSON.stringify(error.message)}`
            : undefined;
    const slow = ms >= SLOW_MS ? `took ${ms.toFixed(0)} ms` : undefined;
    for (const p of [problem, slow]) {
      if (!p) continue;
      if (!SURVEY) assert.fail(`${where}: ${p}\ninput: ${shown()}`);
      const kind = p.split('\n').slice(0, 2).join(' | ').slice(0, 160);
      failures.set(kind, (failures.get(kind) ?? 0) + 1);
    }
    if (error === undefined) tally.parsed++;
    else tally.refused++;
    tally.inputs++;
    tally.ms += ms;
    tally.maxMs = Math.max(tally.maxMs, ms);
  }
  totals.set(format, tally);
  for (const [kind, n] of failures) t.diagnostic(`${format}: ${n} x ${kind}`);
  t.diagnostic(
    `${format}: ${tally.inputs} inputs (${tally.parsed} parsed, ${tally.refused} refused) in ${tally.ms.toFixed(0)} ms ` +
      `(${(performance.now() - began).toFixed(0)} ms with making them), slowest ${tally.maxMs.toFixed(1)} ms`,
  );
}

/** A JSON document as a text input (30 %: byte-level mutations of its text) or a mutated value. */
function jsonInput(valid: unknown, r: Rng): { text?: Buffer; value?: unknown } {
  if (r.chance(0.3)) return { text: mutateBytes(Buffer.from(JSON.stringify(valid, null, r.chance(0.5) ? 1 : 0)), r) };
  return { value: mutateJson(valid, r) };
}

const fromInput = (input: { text?: Buffer; value?: unknown }, file: string): unknown =>
  input.text ? parseJson(input.text.toString('utf8'), file) : input.value;

const DIMS = [
  'vocab_size',
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'max_position_embeddings',
  'type_vocab_size',
];

/** A config with one or two of its dimensions changed (half the time), or mutated anywhere. */
function mutateDims(config: Json, r: Rng): unknown {
  if (r.chance(0.5)) return mutateJson(config, r);
  const c = structuredClone(config) as Record<string, unknown>;
  for (let k = 1 + r.int(2); k > 0; k--) {
    const key = r.pick(DIMS);
    c[key] = r.chance(0.5) ? r.pick([8 * 2 ** 30, 65_536, 4096, 1024, 2 ** 31, 32, 4, 1]) : randomValue(r, c[key]);
  }
  return c;
}

// ---- fixtures ---------------------------------------------------------------------------------------

function randomFloats(n: number, r: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => r.next() - 0.5);
}

let tiny: { model: string; store: string } | undefined;

/** A tiny BERT checkpoint (hidden 8, 2 layers, 2 heads) in a temp dir, and its shard store (made once). */
function tinyModel(): { model: string; store: string } {
  tiny ??= makeTinyModel();
  return tiny;
}

function makeTinyModel(): { model: string; store: string } {
  const r = prng(1);
  const cfg = { V: 16, H: 8, L: 2, A: 2, I: 16, P: 16, T: 2, labels: 2 };
  const t: Record<string, Tensor> = {};
  const put = (name: string, shape: number[]) =>
    (t[name] = {
      shape,
      data: randomFloats(
        shape.reduce((a, b) => a * b, 1),
        r,
      ),
    });
  put('bert.embeddings.word_embeddings.weight', [cfg.V, cfg.H]);
  put('bert.embeddings.position_embeddings.weight', [cfg.P, cfg.H]);
  put('bert.embeddings.token_type_embeddings.weight', [cfg.T, cfg.H]);
  put('bert.embeddings.LayerNorm.weight', [cfg.H]);
  put('bert.embeddings.LayerNorm.bias', [cfg.H]);
  for (let l = 0; l < cfg.L; l++) {
    const p = `bert.encoder.layer.${l}.`;
    for (const n of ['query', 'key', 'value']) {
      put(`${p}attention.self.${n}.weight`, [cfg.H, cfg.H]);
      put(`${p}attention.self.${n}.bias`, [cfg.H]);
    }
    put(`${p}attention.output.dense.weight`, [cfg.H, cfg.H]);
    put(`${p}attention.output.dense.bias`, [cfg.H]);
    put(`${p}attention.output.LayerNorm.weight`, [cfg.H]);
    put(`${p}attention.output.LayerNorm.bias`, [cfg.H]);
    put(`${p}intermediate.dense.weight`, [cfg.I, cfg.H]);
    put(`${p}intermediate.dense.bias`, [cfg.I]);
    put(`${p}output.dense.weight`, [cfg.H, cfg.I]);
    put(`${p}output.dense.bias`, [cfg.H]);
    put(`${p}output.LayerNorm.weight`, [cfg.H]);
    put(`${p}output.LayerNorm.bias`, [cfg.H]);
  }
  put('bert.pooler.dense.weight', [cfg.H, cfg.H]);
  put('bert.pooler.dense.bias', [cfg.H]);
  put('classifier.weight', [cfg.labels, cfg.H]);
  put('classifier.bias', [cfg.labels]);
  const model = join(tempDir('shardlab-fuzz-'), 'model');
  cpSync(SPAM_MODEL, model, { recursive: true, filter: (f) => !f.endsWith('.safetensors') });
  writeFileSync(join(model, 'model.safetensors'), encodeSafetensors(t));
  writeFileSync(
    join(model, 'config.json'),
    JSON.stringify({
      model_type: 'bert',
      vocab_size: cfg.V,
      hidden_size: cfg.H,
      num_hidden_layers: cfg.L,
      num_attention_heads: cfg.A,
      intermediate_size: cfg.I,
      max_position_embeddings: cfg.P,
      type_vocab_size: cfg.T,
      id2label: { 0: 'ham', 1: 'spam' },
      shardlab: { task: 'spam' },
    }),
  );
  const store = join(tempDir('shardlab-fuzz-'), 'store');
  writeStore(model, store, [2, 4, 32]);
  return { model, store };
}

/** A small valid safetensors file: F32, F16, BF16, a zero-size tensor and metadata. */
function smallSafetensors(): Buffer {
  const header = {
    __metadata__: { format: 'pt' },
    a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
    b: { dtype: 'F16', shape: [4], data_offsets: [24, 32] },
    empty: { dtype: 'F32', shape: [0, 5], data_offsets: [32, 32] },
    c: { dtype: 'BF16', shape: [2, 2], data_offsets: [32, 40] },
  };
  return withHeader(header, Buffer.from(Array.from({ length: 40 }, (_, i) => (i * 37) & 0xff)));
}

function withHeader(header: unknown, data: Buffer, len?: bigint): Buffer {
  const json = Buffer.from(JSON.stringify(header) ?? 'undefined');
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(len ?? BigInt(json.length));
  return Buffer.concat([head, json, data]);
}

/** The parser may widen F16/BF16 to F32 (2x), never more: the output is bounded by the input. */
function parseBounded(buf: Buffer): void {
  const tensors = parseSafetensors(buf, 'fuzz.safetensors');
  let bytes = 0;
  for (const x of tensors.values()) bytes += x.data.byteLength;
  assert.ok(bytes <= 2 * buf.length, `parsed ${bytes} bytes of tensors from a ${buf.length}-byte file`);
}

// ---- the reproduced findings, as plain tests ----------------------------------------------------------

describe('findings of the fuzzing, kept as plain tests', () => {
  const refused = (f: () => unknown, pattern: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof UserError && !/[\n\r]/.test(e.message) && pattern.test(e.message));

  test("a shard store's config.json with a huge dimension is refused before the store allocates", () => {
    const { store } = tinyModel();
    const file = join(store, 'config.json');
    const text = readFileSync(file, 'utf8');
    try {
      const config = JSON.parse(text) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...config, hidden_size: 8 * 2 ** 30 }));
      // Opening the store stops at config.json's checksum; the config's own checks stand behind it.
      refused(() => ShardStore.open(store), /config\.json: \d+ bytes, the manifest says \d+/);
      refused(() => readBertConfig(store), /hidden_size: must be at most 65536 \(got 8589934592\)/);
      writeFileSync(file, JSON.stringify({ ...config, hidden_size: 64, num_attention_heads: 2 }));
      refused(() => readBertConfig(store), /base\.safetensors: tensor "bert\.embeddings\.word_embeddings\.weight" has shape \[16, 8\] but/);
      writeFileSync(file, JSON.stringify({ ...config, intermediate_size: 65_536, num_attention_heads: 1 }));
      refused(() => readBertConfig(store), /need more than the \d+ bytes of the shard store; config and shards do not match/);
    } finally {
      writeFileSync(file, text);
    }
  });

  test('JSON errors name the line and column on one line', () => {
    refused(
      () => parseJson('{\n  "a": 1,\n  x "b": 2\n}', 'f.json'),
      /^f\.json: not valid JSON \(at line 3, column 3: Expected double-quoted property name\)$/,
    );
    refused(() => parseJson('{\n  "a": tru\n}', 'f.json'), /^f\.json: not valid JSON \(at line 2, column 11: Unexpected token ' '\)$/);
    refused(() => parseJson('[1, 2', 'f.json'), /at line 1, column 6: Expected ',' or ']' after array element/);
    refused(() => parseJson('{"a": 1}}', 'f.json'), /at line 1, column 9: Unexpected non-whitespace character after JSON/);
    refused(() => parseJson('['.repeat(100_000), 'f.json'), /at line 1, column 100001/);
  });

  test('a UserError is one line whatever its message holds', () => {
    assert.equal(new UserError('a\nb\r\nc\u0000d').message, 'a b c\\u0000d');
    assert.ok(new UserError('x'.repeat(10_000)).message.length < 2100);
  });
});

// ---- the formats ------------------------------------------------------------------------------------

describe('fuzz: every input file parses or is refused with one line', () => {
  test('safetensors: a small file built here', (t) => {
    const valid = smallSafetensors();
    const headerLen = Number(valid.readBigUInt64LE(0));
    const header = JSON.parse(valid.toString('utf8', 8, 8 + headerLen)) as unknown;
    const data = valid.subarray(8 + headerLen);
    parseBounded(valid);
    fuzz(
      t,
      'safetensors (small)',
      2500,
      (r) => {
        const kind = r.int(4);
        if (kind === 0) return mutateBytes(valid, r);
        const h = mutateJson(header, r);
        // Mostly a consistent length field (so the header's content is what is tested), sometimes not.
        const len = r.chance(0.1) ? BigInt(r.pick([0, 1, 7, headerLen + 1, 2 ** 40, 2 ** 62])) : undefined;
        return withHeader(h, kind === 3 ? mutateBytes(data, r) : data, len);
      },
      parseBounded,
    );
  });

  test('safetensors: the header of fixtures/models/bert-spam/model.safetensors', (t) => {
    const file = join(SPAM_MODEL, 'model.safetensors');
    const bytes = readFileSync(file);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    const prefix = bytes.subarray(0, 8 + headerLen);
    const header = JSON.parse(prefix.toString('utf8', 8)) as unknown;
    assert.ok(parseSafetensorsHeader(prefix, bytes.length, file).tensors.length > 10);
    fuzz(
      t,
      'safetensors (bert-spam header)',
      1000,
      (r) => {
        const size = r.chance(0.1) ? r.pick([0, 8, bytes.length - 1, bytes.length + 4, 2 ** 40]) : bytes.length;
        if (r.chance(0.3)) return { prefix: mutateBytes(prefix, r), size };
        const json = Buffer.from(JSON.stringify(mutateJson(header, r)) ?? 'undefined');
        const head = Buffer.alloc(8);
        head.writeBigUInt64LE(BigInt(json.length));
        // Keep the data section's length: a header of another length moves the data, so compare sizes.
        return { prefix: Buffer.concat([head, json]), size: size - headerLen + json.length };
      },
      ({ prefix: p, size }) => void parseSafetensorsHeader(p, size, file),
    );
    // A few whole files through the full parser (the header mutated, the data kept).
    fuzz(
      t,
      'safetensors (bert-spam, whole file)',
      8,
      (r) => Buffer.concat([mutateBytes(prefix, r), bytes.subarray(prefix.length)]),
      parseBounded,
    );
  });

  test('bert config.json', (t) => {
    const valid = JSON.parse(readFileSync(join(SPAM_MODEL, 'config.json'), 'utf8')) as Json;
    parseBertConfig(valid, 'config.json');
    fuzz(
      t,
      'config.json',
      2000,
      (r) => jsonInput(valid, r),
      (input) => void parseBertConfig(fromInput(input, 'config.json'), 'config.json'),
    );
    // With weights beside it: the config is checked against a checkpoint's and a store's tensors, and the
    // mutations aim at the dimensions.
    const { model, store } = tinyModel();
    const text = readFileSync(join(model, 'config.json'), 'utf8');
    const tiny = JSON.parse(text) as Json;
    t.after(() => [model, store].forEach((dir) => writeFileSync(join(dir, 'config.json'), text)));
    fuzz(
      t,
      'config.json (with weights)',
      400,
      (r) => ({ dir: r.chance(0.5) ? model : store, text: JSON.stringify(mutateDims(tiny, r)) ?? 'null' }),
      ({ dir, text }) => {
        writeFileSync(join(dir, 'config.json'), text);
        // Past the config, into what is allocated from it: the checkpoint's weights, the store's buffers.
        if (dir === model) loadBertWeights(model, readBertConfig(model));
        else ShardStore.open(store);
      },
    );
  });

  test('shard-store manifest (ShardStore.open)', (t) => {
    const { store } = tinyModel();
    const manifest = JSON.parse(readFileSync(join(store, 'manifest.json'), 'utf8')) as Json;
    t.after(() => writeFileSync(join(store, 'manifest.json'), JSON.stringify(manifest)));
    ShardStore.open(store);
    fuzz(
      t,
      'manifest.json',
      700,
      (r) => {
        const input = jsonInput(manifest, r);
        return { manifest: input.text ?? Buffer.from(JSON.stringify(input.value) ?? 'null') };
      },
      ({ manifest: m }) => {
        writeFileSync(join(store, 'manifest.json'), m);
        ShardStore.open(store);
      },
    );
  });

  test('SoC profiles (parseSocProfile)', (t) => {
    const valid = JSON.parse(readFileSync(join(ROOT, 'socs/odroid-n2plus.json'), 'utf8')) as Json;
    parseSocProfile(valid, 'odroid-n2plus.json');
    fuzz(
      t,
      'SoC profile',
      1500,
      (r) => jsonInput(valid, r),
      (input) => void parseSocProfile(fromInput(input, 'soc.json'), 'soc.json'),
    );
  });

  test('--config configuration files (checkConfiguration)', (t) => {
    const shape = { layers: 4, slices: 8, bits: [2, 3, 4, 5, 6, 32] };
    const matrix = { layers: 3, slices: 4, bits: [Array(4).fill(32), [4, 4, 2, 2], [6, 5, 3, 2]] } as Json;
    const uniform = { layers: 4, slices: 8, bits: 4 } as Json;
    fuzz(
      t,
      '--config',
      1500,
      (r) => jsonInput(r.chance(0.5) ? matrix : uniform, r),
      (input) => {
        const c = checkConfiguration(fromInput(input, 'run.json'), 'run.json', shape);
        // What it returns is within the model: nothing beyond the model's shape can be allocated from it.
        assert.ok(c.bits.length === c.layers && c.layers <= shape.layers && c.bits.every((row) => row.length === c.slices));
        assert.ok(c.slices <= shape.slices);
      },
    );
  });

  test('regression baselines (parseBaseline)', (t) => {
    const full = JSON.parse(readFileSync(join(ROOT, 'test/baselines/bert-spam.json'), 'utf8')) as { rows: Json[] } & Record<string, Json>;
    // Mostly its first rows (the rows are alike; a short file fuzzes faster), sometimes all 60.
    const short = { ...full, rows: full.rows.slice(0, 4) } as Json;
    parseBaseline(full, 'baseline.json');
    parseBaseline(short, 'baseline.json');
    fuzz(
      t,
      'baseline',
      1000,
      (r) => jsonInput(r.chance(0.1) ? (full as unknown as Json) : short, r),
      (input) => void parseBaseline(fromInput(input, 'baseline.json'), 'baseline.json'),
    );
  });

  test('tokenizer.json (a small WordPiece vocabulary)', (t) => {
    const full = JSON.parse(readFileSync(join(SPAM_MODEL, 'tokenizer.json'), 'utf8')) as {
      model: { vocab: Record<string, number> };
    } & Record<string, Json>;
    const vocabSize = 400;
    const small = {
      ...full,
      model: { ...full.model, vocab: Object.fromEntries(Object.entries(full.model.vocab).filter(([, id]) => id < vocabSize)) },
    } as unknown as Json;
    new TextEncoder(small as object, {}, 32, { vocabSize }).encode('hello world, this is not spam');
    fuzz(
      t,
      'tokenizer.json',
      400,
      (r) => jsonInput(small, r),
      (input) => {
        const enc = new TextEncoder(fromInput(input, 'tokenizer.json') as object, {}, 32, { vocabSize, file: 'tokenizer.json' });
        const ids = enc.encode('hello [SEP] world, this is not spam ## 123');
        assert.ok(ids.every((id) => id >= 0 && id < vocabSize));
      },
    );
  });

  test('the totals', (t) => {
    const all = [...totals.values()];
    const inputs = all.reduce((n, x) => n + x.inputs, 0);
    const ms = all.reduce((n, x) => n + x.ms, 0);
    t.diagnostic(`fuzz: ${inputs} inputs in ${totals.size} formats, ${ms.toFixed(0)} ms of parsing (seed ${SEED})`);
    assert.ok(inputs >= 10_000 * Math.min(SCALE, 1) - 100);
  });
});
