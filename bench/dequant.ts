/**
 * Dequantization throughput per bitwidth, single thread: MB/s of compressed shard bytes turned into
 * fp32 weights (checksums and file reads excluded; they are the IO stage's cost). SoC profiles set their
 * dequantization throughput against these figures. The fp32 row is the plain copy, for scale.
 *
 *   npm run bench:dequant -- [--model DIR] [--rounds R]
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { decodeShardInto } from '../engine/shard/format.js';
import { sliceCounts } from '../engine/families/bert/layout.js';
import { DEFAULT_BITS, writeStore } from '../engine/families/bert/shard-store.js';

const { values } = parseArgs({
  options: { model: { type: 'string', default: 'fixtures/models/bert-spam' }, rounds: { type: 'string', default: '7' } },
});
const store = writeStore(values.model!, join(mkdtempSync(join(tmpdir(), 'shardlab-bench-')), 'store'), DEFAULT_BITS);
const counts = sliceCounts(store.config);
const weights = new Float32Array(counts.weights);
const biases = new Float32Array(counts.biases);
const rounds = Number(values.rounds);

const rows: { bits: number; mbps: number; msPerShard: number }[] = [];
const inputs = new Map(
  DEFAULT_BITS.map((bits) => [
    bits,
    store.manifest.shards.filter((s) => s.bits === bits).map((s) => ({ s, data: readFileSync(join(store.dir, s.file)) })),
  ]),
);
const times = new Map<number, number[]>(DEFAULT_BITS.map((b) => [b, []]));
for (let r = 0; r < rounds + 1; r++)
  for (const bits of r % 2 ? [...DEFAULT_BITS].reverse() : DEFAULT_BITS) {
    const t = performance.now();
    for (const { s, data } of inputs.get(bits)!) decodeShardInto(data, s, weights, biases);
    if (r > 0) times.get(bits)!.push(performance.now() - t); // round 0 warms the JIT
  }
for (const bits of DEFAULT_BITS) {
  const shards = inputs.get(bits)!;
  const bytes = shards.reduce((a, x) => a + x.data.length, 0);
  const ms = times.get(bits)!.sort((a, b) => a - b)[Math.floor(rounds / 2)];
  rows.push({ bits, mbps: bytes / 2 ** 20 / (ms / 1000), msPerShard: ms / shards.length });
}
console.log(
  `dequantization, single thread, ${store.manifest.shards.length / DEFAULT_BITS.length} shards of ${counts.weights} weights, median of ${rounds}`,
);
console.log('bits   MB/s compressed in   ms/shard   fp32 MB/s out');
for (const r of rows) {
  const outMBps = ((counts.weights + counts.biases) * 4) / 2 ** 20 / (r.msPerShard / 1000);
  console.log(
    `${String(r.bits).padStart(4)}   ${r.mbps.toFixed(1).padStart(19)}   ${r.msPerShard.toFixed(3).padStart(8)}   ${outMBps.toFixed(1).padStart(13)}`,
  );
}
