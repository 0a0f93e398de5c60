import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dequantizeInto, packIndices, quantize, relativeError } from '../engine/shard/codec.js';

function gaussian(n: number, seed: number): Float32Array {
  let s = seed;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd()) * 0.05);
}

test('packed indices unpack exactly for every bitwidth and length', () => {
  for (const bits of [1, 2, 3, 4, 5, 6, 7, 8])
    for (const n of [1, 7, 8, 9, 1001]) {
      const k = 2 ** bits;
      const indices = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) % k);
      const centroids = Float32Array.from({ length: k }, (_, j) => j * 1.5 - 3);
      const out = new Float32Array(n);
      dequantizeInto(
        {
          bits,
          count: n,
          centroids,
          outlierPositions: new Uint32Array(0),
          outlierValues: new Float32Array(0),
          packed: packIndices(indices, bits),
        },
        out,
      );
      for (let i = 0; i < n; i++) assert.equal(out[i], centroids[indices[i]], `bits ${bits} n ${n} i ${i}`);
    }
});

test('reconstruction error falls with every added bit; outliers are rare and exact', () => {
  const w = gaussian(50_000, 7);
  for (let i = 0; i < 50; i++) w[i * 997] = (i % 2 ? 1 : -1) * (0.6 + i / 100); // far outside the Gaussian
  let previous = Infinity;
  for (const bits of [2, 3, 4, 5, 6]) {
    const q = quantize(w, bits);
    const out = new Float32Array(w.length);
    dequantizeInto(q, out);
    const err = relativeError(w, out);
    assert.ok(err < previous * 0.75, `bits ${bits}: ${err} vs ${previous}`);
    previous = err;
    assert.ok(q.outlierPositions.length >= 50 && q.outlierPositions.length / w.length < 0.01);
    for (let i = 0; i < 50; i++) assert.equal(out[i * 997], w[i * 997]);
    assert.equal(q.centroids.length, 2 ** bits);
  }
  assert.ok(previous < 0.04);
});

test('quantization is deterministic', () => {
  const w = gaussian(5000, 3);
  assert.deepEqual(quantize(w, 3), quantize(w, 3));
});
