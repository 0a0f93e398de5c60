/**
 * The on-storage layout RWKV-edge streams from: what a device keeps on flash and reads per token. Made
 * once per model and setting (the weights that run, fp16 or INT8) in the data directory, as STI's shard
 * store is, and read with real positioned reads:
 *   core.bin  each layer's time-mix and channel-mix receptance weights and vectors, layer after layer
 *             (the dense model streamed layer by layer reads these);
 *   ffn.bin   each layer's FFN neurons, neuron-major: neuron i is key row i then value column i, so the
 *             neurons a predictor picks are runs of one file (RWKV-edge §3.2's sparsity-aware loading);
 *   emb.bin   the embedding, a row per token (the cache's misses read one);
 *   head.bin  the head's rows grouped by cluster when there is a hierarchical head (a cluster is one run),
 *             else in vocabulary order.
 * A vector (a row, or a column of the value matrix) is stored as fp16, or as INT8: an fp16 scale then
 * one signed byte per value (symmetric per-vector quantization). 1-D tensors stay fp16.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { canonicalJson, sha256 } from '../../../core/checksum.js';
import { cacheDir } from '../../../core/paths.js';
import { floatToHalf, HALF_TABLE, halfToFloat } from '../../../core/safetensors.js';
import type { ClusterHead } from '../cluster-head.js';
import type { RwkvWeights } from '../weights.js';

/** Byte range of one read. */
export interface Region {
  offset: number;
  length: number;
}

interface CoreTensor {
  name: string;
  shape: number[];
  /** Offset within the layer's core. */
  offset: number;
  int8: boolean;
}

export interface EdgeManifest {
  format: 1;
  int8: boolean;
  layers: number;
  embd: number;
  ffn: number;
  vocab: number;
  /** Per layer: its core's region of core.bin and the tensors in it. */
  core: { region: Region; tensors: CoreTensor[] }[];
  /** Bytes of one stored vector of length D (a row, or a value column). */
  vectorBytes: number;
  /** head.bin's row order: each cluster's members in turn, or the vocabulary's. */
  headOrder: 'clusters' | 'vocab';
  /** With headOrder 'clusters': the first row of each cluster, and one past the last. */
  clusterStart?: number[];
}

const FILES = ['core.bin', 'ffn.bin', 'emb.bin', 'head.bin'] as const;
export type EdgeFile = (typeof FILES)[number];

/** Bytes of one stored vector of n values. */
export const vectorBytes = (n: number, int8: boolean) => (int8 ? 2 + n : 2 * n);

function encodeVector(out: Buffer, at: number, v: ArrayLike<number>, int8: boolean): number {
  if (!int8) {
    for (let i = 0; i < v.length; i++) out.writeUInt16LE(floatToHalf(v[i]!), at + 2 * i);
    return at + 2 * v.length;
  }
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]!));
  const scale = max / 127;
  const h = floatToHalf(scale);
  out.writeUInt16LE(h, at);
  const s = halfToFloat(h);
  for (let i = 0; i < v.length; i++) out.writeInt8(s > 0 ? Math.max(-127, Math.min(127, Math.round(v[i]! / s))) : 0, at + 2 + i);
  return at + 2 + v.length;
}

/** Decodes `count` stored vectors of length n from `data` (at `at`) into fp32: the real dequantization. */
export function decodeVectors(
  data: Buffer,
  at: number,
  count: number,
  n: number,
  int8: boolean,
  out: Float32Array<ArrayBufferLike> = new Float32Array(count * n),
): Float32Array<ArrayBufferLike> {
  const start = data.byteOffset + at;
  if (!int8) {
    // An fp16 view needs an even offset; a read's buffer may sit anywhere in Node's pool.
    const bytes = start % 2 === 0 ? data : Buffer.from(data.subarray(at, at + 2 * count * n));
    const h = new Uint16Array(bytes.buffer, start % 2 === 0 ? start : bytes.byteOffset, count * n);
    for (let i = 0; i < h.length; i++) out[i] = HALF_TABLE[h[i]!]!;
    return out;
  }
  const q = new Int8Array(data.buffer, start, count * (n + 2));
  for (let r = 0; r < count; r++) {
    const p = r * (n + 2);
    const s = HALF_TABLE[(q[p]! & 0xff) | ((q[p + 1]! & 0xff) << 8)]!;
    const o = r * n;
    for (let i = 0; i < n; i++) out[o + i] = s * q[p + 2 + i]!;
  }
  return out;
}

/** The stored layout of `w` (and its hierarchical head's clusters), as files' contents. */
function layout(w: RwkvWeights, head: ClusterHead | undefined, int8: boolean): { manifest: EdgeManifest; files: Record<EdgeFile, Buffer> } {
  const { layers, embd: D, ffn: F, vocab: V } = w;
  const vb = vectorBytes(D, int8);
  const core: EdgeManifest['core'] = [];
  const coreParts: Buffer[] = [];
  let coreAt = 0;
  for (let l = 0; l < layers; l++) {
    const prefix = `blocks.${l}.`;
    const names = [...w.tensors.keys()].filter((n) => n.startsWith(prefix) && !/\.ffn\.(key|value)\.weight$/.test(n)).sort();
    const tensors: CoreTensor[] = [];
    let size = 0;
    for (const name of names) {
      const shape = w.tensors.get(name)!.shape;
      const q = int8 && shape.length === 2;
      tensors.push({ name, shape, offset: size, int8: q });
      size += q ? shape[0]! * vectorBytes(shape[1]!, true) : 2 * shape.reduce((a, b) => a * b, 1);
    }
    const buf = Buffer.alloc(size);
    for (const t of tensors) {
      const data = w.tensors.get(t.name)!.data;
      if (!t.int8) encodeVector(buf, t.offset, data, false);
      else {
        const [rows, cols] = t.shape as [number, number];
        for (let r = 0; r < rows; r++)
          encodeVector(buf, t.offset + r * vectorBytes(cols, true), data.subarray(r * cols, (r + 1) * cols), true);
      }
    }
    core.push({ region: { offset: coreAt, length: size }, tensors });
    coreParts.push(buf);
    coreAt += size;
  }
  const ffn = Buffer.alloc(layers * F * 2 * vb);
  const column = new Float32Array(D);
  for (let l = 0; l < layers; l++) {
    const key = w.tensors.get(`blocks.${l}.ffn.key.weight`)!.data; // (F, D)
    const value = w.tensors.get(`blocks.${l}.ffn.value.weight`)!.data; // (D, F)
    for (let i = 0; i < F; i++) {
      const at = (l * F + i) * 2 * vb;
      encodeVector(ffn, at, key.subarray(i * D, (i + 1) * D), int8);
      for (let d = 0; d < D; d++) column[d] = value[d * F + i]!;
      encodeVector(ffn, at + vb, column, int8);
    }
  }
  const rows = (name: string, order: ArrayLike<number>, q: boolean) => {
    const m = w.tensors.get(name)!.data;
    const b = vectorBytes(D, q);
    const out = Buffer.alloc(order.length * b);
    for (let i = 0; i < order.length; i++) encodeVector(out, i * b, m.subarray(order[i]! * D, (order[i]! + 1) * D), q);
    return out;
  };
  const vocabOrder = Int32Array.from({ length: V }, (_, i) => i);
  const headOrder = head ? Int32Array.from(head.members.flatMap((m) => [...m])) : vocabOrder;
  const clusterStart = head ? [0] : undefined;
  head?.members.forEach((m) => clusterStart!.push(clusterStart![clusterStart!.length - 1]! + m.length));
  // The embedding is never INT8 (RWKV-edge §3.5 keeps it in fp16; so does the INT8 step graph).
  const emb = rows('emb.weight', vocabOrder, false);
  return {
    manifest: {
      format: 1,
      int8,
      layers,
      embd: D,
      ffn: F,
      vocab: V,
      core,
      vectorBytes: vb,
      headOrder: head ? 'clusters' : 'vocab',
      clusterStart,
    },
    files: { 'core.bin': Buffer.concat(coreParts), 'ffn.bin': ffn, 'emb.bin': emb, 'head.bin': rows('head.weight', headOrder, int8) },
  };
}

/** A model's stored layout, open for positioned reads. */
export class EdgeStore {
  private readonly fds = new Map<EdgeFile, number>();

  private constructor(
    readonly dir: string,
    readonly manifest: EdgeManifest,
  ) {}

  /**
   * The layout of `w` under `key` (what makes it: the weights' checksum and setting), made on first use in
   * the cache directory. Writers race safely: each writes its own folder and renames it into place.
   */
  static open(w: RwkvWeights, head: ClusterHead | undefined, int8: boolean, key: object): EdgeStore {
    const id = sha256(Buffer.from(canonicalJson({ key, int8, clusters: head?.members.length ?? 0 }))).slice(0, 16);
    const dir = join(cacheDir(), 'rwkv-edge', id);
    if (!existsSync(join(dir, 'manifest.json'))) {
      const { manifest, files } = layout(w, head, int8);
      const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${threadId}-${randomBytes(4).toString('hex')}`);
      mkdirSync(tmp, { recursive: true });
      try {
        for (const f of FILES) writeFileSync(join(tmp, f), files[f]);
        writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest));
        try {
          renameSync(tmp, dir);
        } catch (e) {
          if (!existsSync(join(dir, 'manifest.json'))) throw e; // another writer finished first: use theirs
        }
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
    return new EdgeStore(dir, JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as EdgeManifest);
  }

  /** Reads the regions of one file, back to back in one buffer: real positioned reads. */
  read(file: EdgeFile, regions: Region[]): Buffer {
    let fd = this.fds.get(file);
    if (fd === undefined) this.fds.set(file, (fd = openSync(join(this.dir, file), 'r')));
    const out = Buffer.allocUnsafe(regions.reduce((a, r) => a + r.length, 0));
    let at = 0;
    for (const r of regions) {
      let got = 0;
      while (got < r.length) {
        const n = readSync(fd, out, at + got, r.length - got, r.offset + got);
        if (n === 0) throw new Error(`${join(this.dir, file)}: ends before byte ${r.offset + r.length}; delete ${this.dir} to remake it`);
        got += n;
      }
      at += r.length;
    }
    return out;
  }

  /** Layer l's core (time-mix and receptance weights, vectors). */
  coreRegion(l: number): Region {
    return this.manifest.core[l]!.region;
  }

  /** Decodes a layer's core into its tensors (fp32), into `scratch` when it is large enough. */
  decodeCore(l: number, data: Buffer, scratch?: Float32Array): Map<string, Float32Array<ArrayBufferLike>> {
    const out = new Map<string, Float32Array<ArrayBufferLike>>();
    const tensors = this.manifest.core[l]!.tensors;
    const total = tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    const into = scratch && scratch.length >= total ? scratch : new Float32Array(total);
    let at = 0;
    for (const t of tensors) {
      const [rows, cols] = t.shape.length === 2 ? (t.shape as [number, number]) : [1, t.shape.reduce((a, b) => a * b, 1)];
      out.set(t.name, decodeVectors(data, t.offset, rows, cols, t.int8, into.subarray(at, at + rows * cols)));
      at += rows * cols;
    }
    return out;
  }

  /** Bytes of one FFN neuron (key row and value column). */
  get neuronBytes(): number {
    return 2 * this.manifest.vectorBytes;
  }

  /** The runs of ffn.bin holding layer l's neurons where mask (F values, 0/1) is set; all of them without a mask. */
  neuronRegions(l: number, mask?: Uint8Array, at = 0): Region[] {
    const { ffn: F } = this.manifest;
    const nb = this.neuronBytes;
    if (!mask) return [{ offset: l * F * nb, length: F * nb }];
    const out: Region[] = [];
    for (let i = 0; i < F; i++) {
      if (!mask[at + i]) continue;
      const offset = (l * F + i) * nb;
      const last = out[out.length - 1];
      if (last && last.offset + last.length === offset) last.length += nb;
      else out.push({ offset, length: nb });
    }
    return out;
  }

  embRegion(token: number): Region {
    const b = 2 * this.manifest.embd;
    return { offset: token * b, length: b };
  }

  /** The head rows of the given clusters (the whole head without clusters). */
  headRegions(clusters?: readonly number[]): Region[] {
    const { vectorBytes: vb, vocab } = this.manifest;
    const starts = this.manifest.clusterStart;
    if (!clusters || !starts) return [{ offset: 0, length: vocab * vb }];
    return clusters.map((c) => ({ offset: starts[c]! * vb, length: (starts[c + 1]! - starts[c]!) * vb }));
  }

  /** Head rows the given clusters hold. */
  clusterRows(clusters: readonly number[]): number {
    const s = this.manifest.clusterStart!;
    return clusters.reduce((a, c) => a + s[c + 1]! - s[c]!, 0);
  }

  /** Decodes stored vectors of length D (neurons: 2 per neuron; head rows; embedding rows with int8 false), into `scratch` when it is large enough. */
  decode(data: Buffer, int8 = this.manifest.int8, scratch?: Float32Array): Float32Array<ArrayBufferLike> {
    const D = this.manifest.embd;
    const count = data.length / vectorBytes(D, int8);
    const n = count * D;
    return decodeVectors(data, 0, count, D, int8, scratch && scratch.length >= n ? scratch.subarray(0, n) : new Float32Array(n));
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
