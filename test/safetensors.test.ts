import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../engine/core/errors.js';
import { halfToFloat, readSafetensors, readSafetensorsContents, readSafetensorsHeader } from '../engine/core/safetensors.js';
import { tempDir } from './helpers.js';

function safetensors(header: object, data: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

function file(bytes: Buffer): string {
  const path = join(tempDir(), 'model.safetensors');
  writeFileSync(path, bytes);
  return path;
}

const f32 = Buffer.from(new Float32Array([1, -2.5, 3, 0.25]).buffer);
const f16 = Buffer.from(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001]).buffer);

test('reads F32 and F16 tensors with their shapes', () => {
  const path = file(
    safetensors(
      {
        a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
        b: { dtype: 'F16', shape: [4], data_offsets: [16, 24] },
        __metadata__: {},
      },
      Buffer.concat([f32, f16]),
    ),
  );
  const t = readSafetensors(path);
  assert.deepEqual(t.get('a')!.shape, [2, 2]);
  assert.deepEqual([...t.get('a')!.data], [1, -2.5, 3, 0.25]);
  assert.deepEqual([...t.get('b')!.data].slice(0, 2), [1, -2]);
  assert.ok(Math.abs(t.get('b')!.data[2] - 0.33325) < 1e-4);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
});

const bad: [string, Buffer, RegExp][] = [
  ['empty file', Buffer.alloc(3), /truncated/],
  [
    'header length past the end',
    (() => {
      const b = Buffer.alloc(16);
      b.writeBigUInt64LE(1000n);
      return b;
    })(),
    /header length/,
  ],
  ['header not JSON', safetensors({}, Buffer.alloc(0)).fill(0x7b, 8), /not valid JSON/],
  ['data cut short', safetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32.subarray(0, 10)), /truncated: tensor "a"/],
  ['size disagrees with shape', safetensors({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, f32), /needs 12 bytes/],
  ['unknown dtype', safetensors({ a: { dtype: 'Q4', shape: [16], data_offsets: [0, 16] } }, f32), /dtype Q4/],
  ['a null header', safetensors(null as unknown as object, Buffer.alloc(0)), /header is not a JSON object/],
  ['an array header', safetensors([], Buffer.alloc(0)), /header is not a JSON object/],
  ['a tensor that is not an object', safetensors({ a: 7 }, Buffer.alloc(0)), /tensor "a" is not an object/],
  ['metadata that is not strings', safetensors({ __metadata__: { n: 1 } }, Buffer.alloc(0)), /__metadata__ "n" is not a string/],
  ['negative dims', safetensors({ a: { dtype: 'F32', shape: [-2, -3], data_offsets: [0, 24] } }, f32.subarray(0, 24)), /shape \[-2,-3\]/],
  ['fractional dims', safetensors({ a: { dtype: 'F32', shape: [1.5, 4], data_offsets: [0, 16] } }, f32), /shape \[1\.5,4\]/],
  ['dims as strings', safetensors({ a: { dtype: 'F32', shape: ['2', '2'], data_offsets: [0, 16] } }, f32), /shape \["2","2"\]/],
  ['three offsets', safetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 8, 16] } }, f32), /data_offsets \[0,8,16\]/],
  ['offsets reversed', safetensors({ a: { dtype: 'F32', shape: [0], data_offsets: [16, 0] } }, f32), /invalid data offsets \[16, 0\]/],
  [
    'overlapping tensors',
    safetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, f32),
    /tensor "b" starts at byte 8 of the data, expected 16 \(it overlaps/,
  ],
  ['a gap before a tensor', safetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, f32), /expected 0 \(a gap/],
  ['bytes after the last tensor', safetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32), /bytes left over/],
  [
    'a shape too big for its bytes',
    safetensors({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40, 0, 2 ** 40], data_offsets: [0, 16] } }, f32),
    /needs 0 bytes, has 16/,
  ],
  [
    'a shape whose product overflows',
    safetensors({ a: { dtype: 'F32', shape: [2 ** 52, 2 ** 52], data_offsets: [0, 16] } }, f32),
    /needs more than/,
  ],
  [
    'a header length of 2^63',
    (() => {
      const b = safetensors({}, Buffer.alloc(0));
      b.writeBigUInt64LE(2n ** 63n);
      return b;
    })(),
    /header length 9223372036854775808 does not fit/,
  ],
  ['a header that is not UTF-8', safetensors({ a: 'x' }, Buffer.alloc(0)).fill(0xff, 14, 15), /not valid JSON/],
];
for (const [name, bytes, message] of bad) {
  test(`refuses a safetensors file with ${name}, naming the file`, () => {
    const path = file(bytes);
    const refused = (e: unknown) => e instanceof UserError && e.message.startsWith(path) && message.test(e.message);
    assert.throws(() => readSafetensors(path), refused);
    assert.throws(() => readSafetensorsHeader(path), refused);
  });
}

test('a zero-size tensor and metadata are read; the header alone is read without the data', () => {
  const path = file(
    safetensors(
      {
        __metadata__: { format: 'pt' },
        empty: { dtype: 'F16', shape: [0, 3], data_offsets: [0, 0] },
        a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
      },
      f32,
    ),
  );
  assert.deepEqual(readSafetensors(path).get('empty'), { shape: [0, 3], data: new Float32Array(0) });
  const header = readSafetensorsHeader(path);
  assert.deepEqual(header.metadata, { format: 'pt' });
  assert.deepEqual(
    header.tensors.map((t) => [t.name, t.dtype, t.shape, t.begin, t.end]),
    [
      ['empty', 'F16', [0, 3], 0, 0],
      ['a', 'F32', [4], 0, 16],
    ],
  );
});

test('an integer buffer (I64 position_ids) is listed as ignored by a checkpoint read, and refused where every tensor is a weight', () => {
  const ids = Buffer.from(new BigInt64Array([0n, 1n]).buffer);
  const path = file(
    safetensors(
      {
        a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
        'bert.embeddings.position_ids': { dtype: 'I64', shape: [1, 2], data_offsets: [16, 32] },
      },
      Buffer.concat([f32, ids]),
    ),
  );
  const { tensors, ignored } = readSafetensorsContents(path);
  assert.deepEqual([...tensors.keys()], ['a']);
  assert.deepEqual(ignored, [{ name: 'bert.embeddings.position_ids', dtype: 'I64', shape: [1, 2] }]);
  assert.equal(readSafetensorsHeader(path).tensors[1].dtype, 'I64');
  assert.throws(() => readSafetensors(path), /"bert\.embeddings\.position_ids" has dtype I64; shardlab reads F32, F16 and BF16/);
});
