/**
 * RWKV-edge's hierarchical head (rwkv-edge.md §3.4): the vocabulary is split into K clusters; a small
 * first level W_l1 (K × D) predicts each cluster's probability, and exact logits are needed only for the
 * tokens of the most probable clusters (the shortest prefix holding `mass`, clamped to [3, 100]). Every
 * other token gets a log-space pseudo-logit, so the output is still a full-vocabulary distribution whose
 * selected tokens keep their exact relative probabilities and whose other clusters carry their predicted
 * mass. Made per model by fixtures/make/rwkv/cluster_head.py (cluster-head.safetensors, clusters.json).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { readSafetensors, type Tensor } from '../../core/safetensors.js';

export interface ClusterHeadSetting {
  /** Clusters the vocabulary is split into (must be the trained head's). */
  clusters: number;
  /** Cumulative probability the selected clusters reach (the paper: 0.95). */
  mass: number;
}

export const PAPER_CLUSTER_MASS = 0.95;
const MIN_CLUSTERS = 3;
const MAX_CLUSTERS = 100;

/** A trained first level and the cluster of every token. */
export interface ClusterHead {
  l1: Tensor;
  /** members[c]: the token ids of cluster c. */
  members: Int32Array[];
}

export function loadClusterHead(dir: string, setting: ClusterHeadSetting, vocab: number, embd: number): ClusterHead {
  const file = join(dir, 'cluster-head.safetensors');
  const map = join(dir, 'clusters.json');
  if (!existsSync(file) || !existsSync(map))
    throw new UserError(
      `${dir}: no cluster-head.safetensors and clusters.json; fixtures/make/rwkv/cluster_head.py trains the head for a model`,
    );
  const l1 = readSafetensors(file).get('head_l1.weight');
  const K = setting.clusters;
  if (!l1 || l1.shape.join(',') !== `${K},${embd}`)
    throw new UserError(
      `${file}: head_l1.weight is not [${K}, ${embd}]; --head-clusters must name the trained head's ${l1?.shape[0] ?? '?'} clusters`,
    );
  const j = JSON.parse(readFileSync(map, 'utf8')) as { assignment?: unknown };
  const a = j.assignment;
  if (!Array.isArray(a) || a.length !== vocab || !a.every((c) => Number.isInteger(c) && c >= 0 && c < K))
    throw new UserError(`${map}: "assignment" must give each of the ${vocab} tokens a cluster from 0 to ${K - 1}; retrain the head`);
  const lists: number[][] = Array.from({ length: K }, () => []);
  (a as number[]).forEach((c, t) => lists[c]!.push(t));
  if (lists.some((l) => l.length === 0)) throw new UserError(`${map}: a cluster has no token; retrain the head`);
  return { l1, members: lists.map((l) => Int32Array.from(l)) };
}

export interface HeadStep {
  logits: Float32Array;
  /** Clusters whose exact logits were computed. */
  clusters: number;
  /** Head rows those clusters hold (what is read of the head). */
  rows: number;
  /** The selected clusters, most probable first. */
  chosen: number[];
}

/**
 * The full-vocabulary logits the hierarchical head gives, from the exact logits (`full`; only those of
 * the selected clusters are read) and the first level's cluster logits.
 */
export function hierarchicalLogits(full: Float32Array, clusterLogits: Float32Array, head: ClusterHead, mass: number): HeadStep {
  const K = head.members.length;
  const p = softmax(clusterLogits);
  const order = Array.from(p.keys()).sort((a, b) => p[b]! - p[a]! || a - b);
  const chosen: number[] = [];
  let reached = 0;
  for (const c of order) {
    if (chosen.length >= Math.min(MAX_CLUSTERS, K) || (reached >= mass && chosen.length >= Math.min(MIN_CLUSTERS, K))) break;
    chosen.push(c);
    reached += p[c]!;
  }
  let max = -Infinity;
  for (const c of chosen) for (const t of head.members[c]!) max = Math.max(max, full[t]!);
  let sum = 0;
  for (const c of chosen) for (const t of head.members[c]!) sum += Math.exp(full[t]! - max);
  const selectedLse = max + Math.log(sum);
  const out = new Float32Array(full.length);
  const isChosen = new Uint8Array(K);
  let rows = 0;
  for (const c of chosen) {
    isChosen[c] = 1;
    rows += head.members[c]!.length;
    for (const t of head.members[c]!) out[t] = full[t]!;
  }
  const logReached = Math.log(reached);
  for (let c = 0; c < K; c++) {
    if (isChosen[c]) continue;
    const m = head.members[c]!;
    const z = selectedLse + Math.log(p[c]!) - logReached - Math.log(m.length);
    for (const t of m) out[t] = z;
  }
  return { logits: out, clusters: chosen.length, rows, chosen };
}

function softmax(z: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  const e = Float64Array.from(z, (v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** `--head-clusters K[:P]`: K clusters (the trained head's), selected up to cumulative probability P (0.95). */
export function parseHeadClusters(value: string): ClusterHeadSetting {
  const [k, p] = value.split(':');
  const clusters = Number(k);
  const mass = p === undefined ? PAPER_CLUSTER_MASS : Number(p);
  if (!Number.isInteger(clusters) || clusters < 2)
    throw new UserError(`--head-clusters "${value}": K is a number of clusters (2 or more), e.g. 200`);
  if (!(mass > 0 && mass <= 1)) throw new UserError(`--head-clusters "${value}": P is a probability above 0 and at most 1, e.g. 200:0.95`);
  return { clusters, mass };
}
