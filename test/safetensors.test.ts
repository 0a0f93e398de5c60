import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../engine/core/errors.js';
import { halfToFloat, readSafetensors } from '../engine/core/safetensors.js';
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
  ['unknown dtype', safetensors({ a: { dtype: 'I8', shape: [16], data_offsets: [0, 16] } }, f32), /dtype I8/],
];
for (const [name, bytes, message] of bad) {
  test(`refuses a safetensors file with ${name}, naming the file`, () => {
    const path = file(bytes);
    assert.throws(
      () => readSafetensors(path),
      (e: unknown) => e instanceof UserError && e.message.startsWith(path) && message.test(e.message),
    );
  });
}
