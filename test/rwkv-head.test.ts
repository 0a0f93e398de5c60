import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hierarchicalLogits, parseHeadClusters, type ClusterHead } from '../engine/families/rwkv/cluster-head.js';

const V = 60;
const K = 12;
/** Token t in cluster t mod K (5 tokens each); the first level's tensor is not used by hierarchicalLogits. */
const head: ClusterHead = {
  l1: { shape: [K, 1], data: new Float32Array(K) },
  members: Array.from({ length: K }, (_, c) => Int32Array.from({ length: V / K }, (_, i) => c + i * K)),
};
const full = Float32Array.from({ length: V }, (_, t) => Math.sin(t * 1.3) * 3);
const clusterLogits = Float32Array.from({ length: K }, (_, c) => Math.cos(c * 0.7) * 2);

function softmax(z: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(z));
  const e = Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

test('with every cluster selected the hierarchical head gives the full head exactly', () => {
  const r = hierarchicalLogits(full, clusterLogits, head, 1);
  assert.equal(r.clusters, K);
  assert.equal(r.rows, V);
  assert.deepEqual(Array.from(r.logits), Array.from(full));
});

test('its distribution sums to 1, each unselected cluster holds its predicted mass, selected tokens keep their ratios', () => {
  const r = hierarchicalLogits(full, clusterLogits, head, 0.6);
  assert.ok(r.clusters >= 3 && r.clusters < K);
  const q = softmax(r.logits);
  assert.ok(Math.abs(q.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  const p = softmax(clusterLogits);
  const order = Array.from(p.keys()).sort((a, b) => p[b]! - p[a]!);
  const chosen = new Set(order.slice(0, r.clusters));
  // The shortest prefix reaching 0.6 (at least 3).
  const reached = order.slice(0, r.clusters).reduce((s, c) => s + p[c]!, 0);
  assert.ok(reached >= 0.6 || r.clusters === 3);
  assert.ok(order.slice(0, r.clusters - 1).reduce((s, c) => s + p[c]!, 0) < 0.6 || r.clusters === 3);
  for (let c = 0; c < K; c++) {
    const mass = Array.from(head.members[c]!).reduce((s, t) => s + q[t]!, 0);
    if (!chosen.has(c)) assert.ok(Math.abs(mass - p[c]!) < 1e-6, `cluster ${c}: ${mass} vs ${p[c]}`);
  }
  const sel = [...chosen].flatMap((c) => Array.from(head.members[c]!));
  for (const t of sel.slice(1)) assert.ok(Math.abs(q[t]! / q[sel[0]!]! - Math.exp(full[t]! - full[sel[0]!]!)) < 1e-5);
  assert.equal(r.rows, sel.length);
});

test('at most 100 clusters and at least 3, whatever the mass', () => {
  const big: ClusterHead = { l1: head.l1, members: Array.from({ length: 150 }, (_, c) => Int32Array.from([c])) };
  const flat = new Float32Array(150);
  assert.equal(
    hierarchicalLogits(
      Float32Array.from({ length: 150 }, (_, t) => t),
      flat,
      big,
      1,
    ).clusters,
    100,
  );
  const peaked = Float32Array.from({ length: 150 }, (_, c) => (c === 0 ? 50 : 0));
  assert.equal(
    hierarchicalLogits(
      Float32Array.from({ length: 150 }, (_, t) => t),
      peaked,
      big,
      0.95,
    ).clusters,
    3,
  );
});

test('--head-clusters K[:P]', () => {
  assert.deepEqual(parseHeadClusters('200'), { clusters: 200, mass: 0.95 });
  assert.deepEqual(parseHeadClusters('64:0.9'), { clusters: 64, mass: 0.9 });
  assert.throws(() => parseHeadClusters('x'), /K is a number of clusters/);
  assert.throws(() => parseHeadClusters('200:2'), /P is a probability/);
});
