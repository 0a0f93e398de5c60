/**
 * Importance profiling (STI §4): one score per (layer, slice) of the full model from real dev-set
 * evaluations.
 *   sti:  accuracy with that one shard at high fidelity and every other shard at low fidelity;
 *   drop: accuracy lost when that one shard alone goes to low fidelity, every other shard at high.
 * Higher score = more important, for both.
 *
 * Every configuration profiled differs from the reference (all shards at one fidelity) in one shard, so
 * the layers before that shard compute exactly what the reference computes. The profile therefore runs
 * batch by batch: the reference once, keeping each layer's input, attention output and attention context,
 * then each shard from its own layer on (shard-graphs.ts): in the shard's layer, attention for its one head
 * alone, its term swapped into the reference's attention output; the FFN and later layers whole. The last
 * layer computes only the row the classifier head reads, without projecting keys and values at every
 * position (graphs.ts, addContextCls). Tokens, batches and dequantized weights are made once per profile.
 * Scores are stored when the last batch is done; an interrupted profile keeps the shards stored by earlier
 * complete runs (and nothing of its own), and the next run profiles the rest.
 */
import { uniformConfiguration } from './configuration.js';
import type { ExperimentStore, ImportanceKey, ImportanceRow } from '../../store/db.js';
import { UserError } from '../../core/errors.js';
import { keyExamples } from '../../eval/sample.js';
import { argmaxRows } from './accuracy.js';
import { lengthBuckets, makeBatch } from './batch.js';
import type { TokenIds } from './tokenizer.js';
import { emptyLayer, gatherSlice, scatterSlice } from './layout.js';
import type { AccuracyOracle } from './oracle.js';
import type { ShardStore } from './shard-store.js';
import { sliceLayer, type LayerWeights } from './weights.js';
import type { ReferenceLayer, ShardLayer } from './model.js';
import { HEAD_PARTS, type HeadPart } from './shard-graphs.js';

export const IMPORTANCE_METHODS = ['sti', 'drop'] as const;
export type ImportanceMethod = (typeof IMPORTANCE_METHODS)[number];

export interface ProfileOptions {
  method: ImportanceMethod;
  layers: number;
  slices: number;
  /** Fidelity of the shard under test (sti) or of the rest (drop). */
  high: number;
  low: number;
  modelChecksum: string;
  /** Work done and to do, counted in example evaluations: the reference pass and each shard, times the examples. */
  onProgress?: (done: number, total: number) => void;
}

export interface Profile {
  method: ImportanceMethod;
  /** Accuracy of the reference configuration: all low (sti) or all high (drop). */
  reference: number;
  /** Examples the profile was measured on. */
  examples: number;
  scores: ImportanceRow[];
  /** How many shards were evaluated now (the rest came from an earlier, interrupted run). */
  evaluated: number;
}

const BATCH = 32;

/** Batches of similar length, reordered short, long, short, … so that progress per example stays even (an honest rate for time left). */
function evenBatches(seqs: TokenIds[], size: number): number[][] {
  const sorted = lengthBuckets(seqs, size);
  const out: number[][] = [];
  for (let i = 0, j = sorted.length - 1; i <= j; i++, j--) out.push(...(i === j ? [sorted[i]] : [sorted[i], sorted[j]]));
  return out;
}

/** The reference's layers with one shard from the probe (another fidelity), as the shard's layer graph takes them. */
export function shardWeights(store: ShardStore, slices: number, ref: LayerWeights[], probe: LayerWeights[]): ShardWeights {
  return new ShardWeights(store, slices, ref, probe);
}

class ShardWeights {
  private readonly scratch: LayerWeights;
  /** The reference layer the scratch buffer holds, and which of its slices is the probe's there. */
  private holds?: { layer: number; slice: number };
  constructor(
    private readonly store: ShardStore,
    private readonly slices: number,
    private readonly ref: LayerWeights[],
    private readonly probe: LayerWeights[],
  ) {
    this.scratch = emptyLayer(store.config);
  }

  /** Layer `layer` with slice `slice` from the probe; valid until the next call (one buffer, reused). */
  layer(layer: number, slice: number): ShardLayer {
    const cfg = this.store.config;
    if (this.holds?.layer === layer) this.putSlice(this.ref[layer], this.holds.slice);
    else for (const [part, data] of Object.entries(this.ref[layer])) this.scratch[part as keyof LayerWeights].set(data);
    this.putSlice(this.probe[layer], slice);
    this.holds = { layer, slice };
    const rowsOf = (w: LayerWeights, part: HeadPart) => {
      const n = w[part].length / cfg.slices;
      return w[part].subarray(slice * n, (slice + 1) * n);
    };
    const head = {} as ShardLayer['head'];
    for (const part of HEAD_PARTS) head[part] = rowsOf(this.probe[layer], part);
    return { slice, head, referenceWo: rowsOf(this.ref[layer], 'wo'), layer: sliceLayer(cfg, this.scratch, this.slices) };
  }

  /** Writes slice `slice` of `from` into the scratch layer. */
  private putSlice(from: LayerWeights, slice: number): void {
    const { weights, biases } = gatherSlice(this.store.config, from, slice);
    scatterSlice(this.store.config, this.scratch, slice, weights, biases);
  }
}

export async function profileImportance(oracle: AccuracyOracle, db: ExperimentStore, o: ProfileOptions): Promise<Profile> {
  const key = { model: o.modelChecksum, task: oracle.task, split: oracle.splitKey, method: `${o.method}:${o.high}/${o.low}` };
  const [refBits, probeBits] = o.method === 'sti' ? [o.low, o.high] : [o.high, o.low];
  const stored = new Set(db.importance(key).map((r) => `${r.layer}/${r.slice}`));
  const pending: { layer: number; slice: number }[] = [];
  for (let layer = 0; layer < o.layers; layer++)
    for (let slice = 0; slice < o.slices; slice++) if (!stored.has(`${layer}/${slice}`)) pending.push({ layer, slice });
  const examples = oracle.examples;
  const total = (pending.length + 1) * examples.length;
  o.onProgress?.(0, total);

  const model = await oracle.runtime();
  const store = oracle.store;
  const load = (bits: number) =>
    Array.from({ length: o.layers }, (_, l) => store.loadLayer(l, uniformConfiguration(o.layers, o.slices, bits).bits[l]));
  const ref = load(refBits);
  const shards = new ShardWeights(store, o.slices, ref, load(probeBits));
  const encoded = examples.map((e) => model.tokenizer.encodeExample(e));
  const seqs = encoded.map((e) => e.ids);
  const correct = new Array<number>(pending.length).fill(0);
  let refCorrect = 0;
  let done = 0;
  const last = o.layers - 1;
  for (const idx of evenBatches(seqs, BATCH)) {
    const labels = idx.map((i) => examples[i].label);
    const score = (logits: Float32Array) => {
      const p = argmaxRows(logits, idx.length);
      done += idx.length;
      o.onProgress?.(done, total);
      return labels.reduce((n, label, k) => n + (p[k] === label ? 1 : 0), 0);
    };
    const { hidden, maskBias } = await model.embedBatch(
      makeBatch(
        idx.map((i) => seqs[i]),
        idx.map((i) => encoded[i].types),
      ),
    );
    // runs[l]: the reference's run of layer l on this batch (input, output, attention intermediates).
    const runs: ReferenceLayer[] = [];
    for (let l = 0; l <= last; l++) runs.push(await model.runReferenceLayer(l ? runs[l - 1].out : hidden, maskBias, ref[l], l === last));
    refCorrect += score(await model.runHead(runs[last].out));
    for (const [i, { layer, slice }] of pending.entries())
      correct[i] += score(await model.shardLogits(runs[layer], maskBias, shards.layer(layer, slice), ref.slice(layer + 1)));
  }
  const n = examples.length;
  const reference = n ? refCorrect / n : 0;
  pending.forEach(({ layer, slice }, i) => {
    const accuracy = n ? correct[i] / n : 0;
    db.putImportance(key, { layer, slice, accuracy, score: o.method === 'sti' ? accuracy : reference - accuracy });
  });
  return { method: o.method, reference, examples: n, scores: db.importance(key), evaluated: pending.length };
}

/** A stored importance profile as an importance[layer][slice] grid, or undefined when it is missing or partial. */
export function storedImportance(db: ExperimentStore, key: ImportanceKey, layers: number, slices: number): number[][] | undefined {
  const rows = db.importance(key);
  if (rows.length < layers * slices) return undefined;
  const grid = Array.from({ length: layers }, () => Array<number>(slices).fill(0));
  for (const r of rows) grid[r.layer][r.slice] = r.score;
  return grid;
}

/**
 * The stored profile that serves a request on `want` examples of a split: a complete profile on at least
 * as many examples of it (the whole split's first, else the largest sample), so a profile made once on
 * the full split serves every quick mode. Returns its grid and the split key it was measured on.
 */
export function servingImportance(
  db: ExperimentStore,
  key: Omit<ImportanceKey, 'split'>,
  where: { split: string; want: number; all: number },
  layers: number,
  slices: number,
): { grid: number[][]; split: string } | undefined {
  const candidates = db
    .importanceSplits(key)
    .map((r) => ({ split: r.split, n: keyExamples(r.split, where.split, where.all) }))
    .filter((c): c is { split: string; n: number } => c.n !== undefined && c.n >= Math.min(where.want, where.all))
    .sort((a, b) => b.n - a.n);
  for (const c of candidates) {
    const grid = storedImportance(db, { ...key, split: c.split }, layers, slices);
    if (grid) return { grid, split: c.split };
  }
  return undefined;
}

/** The importance profile ranking planners use unless told otherwise: STI's (one shard at 32 bits, the rest at 2). */
export const DEFAULT_IMPORTANCE = 'sti:32/2';
const SPEC = /^(sti|drop):(\d+)\/(\d+)$/;

export function parseImportance(spec: string, bits: number[]): { method: ImportanceMethod; high: number; low: number } {
  const m = SPEC.exec(spec);
  if (!m) throw new UserError(`importance "${spec}": use METHOD:HIGH/LOW, e.g. ${DEFAULT_IMPORTANCE}`);
  const [high, low] = [Number(m[2]), Number(m[3])];
  for (const b of [high, low])
    if (!bits.includes(b)) throw new UserError(`importance ${spec}: the shard store holds ${bits.join(', ')} bits`);
  return { method: m[1] as ImportanceMethod, high, low };
}

/**
 * The one rule for a planner that ranks shards by importance when the profile is missing (the CLI's
 * plan, sweeps and the workbench's jobs alike): use a stored profile on at least the oracle's examples
 * (servingImportance), else profile it now on the oracle's examples and store it, so it happens once per
 * model, task and split. Returns the grid, the split key it was measured on, and how many shards were
 * evaluated now.
 */
export async function ensureImportance(
  oracle: AccuracyOracle,
  db: ExperimentStore,
  store: { checksum: string; bits: number[]; config: { layers: number; slices: number } },
  spec: string,
  onProgress?: (done: number, total: number) => void,
): Promise<{ grid: number[][]; split: string; evaluated: number }> {
  const { layers, slices } = store.config;
  const key = { model: store.checksum, task: oracle.task, method: spec };
  const { method, high, low } = parseImportance(spec, store.bits);
  const all = oracle.splitSize;
  const have = servingImportance(db, key, { split: oracle.split, want: oracle.count, all }, layers, slices);
  if (have) return { ...have, evaluated: 0 };
  const p = await profileImportance(oracle, db, { method, layers, slices, high, low, modelChecksum: store.checksum, onProgress });
  return {
    grid: storedImportance(db, { ...key, split: oracle.splitKey }, layers, slices)!,
    split: oracle.splitKey,
    evaluated: p.evaluated,
  };
}
