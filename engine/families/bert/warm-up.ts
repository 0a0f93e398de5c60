/**
 * What a device with the app open has warm before a request, done before a real-time run's clock starts:
 * the onnxruntime sessions have run on inputs of the request's shape, the read path (libuv's threadpool,
 * fs/promises, the manifest check's sha256) and the decoders have run, and the executor's code has run.
 * A fresh process that skips this pays each of those once inside the timed request.
 *
 * It touches none of the files the request streams: the read path is exercised on a store file the IO
 * stage never reads, and the decoders on synthetic shards made in memory. What the OS page cache holds
 * is left as it is (see PAGE_CACHE).
 */
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import ort from 'onnxruntime-node';
import { VirtualClock } from '../../pipeline/clock.js';
import { execute } from '../../pipeline/executor.js';
import type { Plan } from '../../pipeline/plan.js';
import type { Program } from '../../pipeline/schedule.js';
import { packedBytes } from '../../shard/codec.js';
import { encodeShard } from '../../shard/format.js';
import type { Batch } from './batch.js';
import { emptyLayer, sliceCounts } from './layout.js';
import type { BertModel } from './model.js';
import type { ShardStore } from './shard-store.js';
import { sliceLayer } from './weights.js';

/** The engine reads through the OS page cache (no O_DIRECT, no drop); a warm-up neither fills nor empties it. */
export const PAGE_CACHE =
  'left as the OS has it: shard reads go through the page cache (no O_DIRECT, no drop), and the warm-up reads none of the request’s shards; the IO stage is paced to the modeled flash either way';

export interface WarmUpStep {
  what: string;
  ms: number;
}

export interface WarmUpReport {
  /** False under --no-warm-up: the request pays the cold costs. */
  done: boolean;
  ms: number;
  steps: WarmUpStep[];
  pageCache: string;
}

export interface WarmUpInput {
  plan: Plan;
  store: ShardStore;
  model: BertModel;
  /** The plan as the executor runs it. */
  program: Program;
  /** The request: only its shape is used. */
  batch: Batch;
}

export const NO_WARM_UP: WarmUpReport = { done: false, ms: 0, steps: [], pageCache: PAGE_CACHE };

/** Warms what a device with the app open has warm (see the file's comment), step by step, timed. */
export async function warmUp(input: WarmUpInput): Promise<WarmUpReport> {
  const steps: WarmUpStep[] = [];
  const step = async (what: string, run: () => unknown) => {
    const t0 = performance.now();
    await run();
    steps.push({ what, ms: performance.now() - t0 });
  };
  const t0 = performance.now();
  await step(
    `onnxruntime sessions (embeddings, layer at ${input.plan.slices} slices, head) on a dummy ${input.batch.length}-token input`,
    () => warmSessions(input),
  );
  await step('read path (libuv threadpool, a verified read of config.json)', () => warmReads(input.store));
  const bits = [...new Set(input.plan.units.map((u) => u.bits))].sort((a, b) => a - b);
  await step(`decoders (${bits.join(', ')} bits) on synthetic shards`, () => warmDecoders(input, bits));
  await step('executor on the plan in virtual time, no real work', () => warmExecutor(input));
  await step('a full garbage collection (the warm-up’s garbage, and external memory counted from here)', collectGarbage);
  return { done: true, ms: performance.now() - t0, steps, pageCache: PAGE_CACHE };
}

/**
 * A layer session's first runs are slow (allocating its arena, picking kernels): over 8 fresh processes on
 * a 2-core host the median of the first five runs was 14.7, 10.8, 7.4, 5.6 and 5.2 ms. So the layer runs
 * LAYER_RUNS times, or until LAYER_BUDGET_MS have passed for a big model (at least twice).
 */
const LAYER_RUNS = 5;
const LAYER_BUDGET_MS = 1000;

/** Each session the request runs, on zeros of the request's shape. */
async function warmSessions({ plan, store, model, batch }: WarmUpInput): Promise<void> {
  const cfg = store.config;
  const dummy: Batch = { ...batch, ids: new BigInt64Array(batch.ids.length), mask: new Float32Array(batch.mask.length).fill(1) };
  const { hidden, maskBias } = await model.embedBatch(dummy);
  const weights = sliceLayer(cfg, emptyLayer(cfg), plan.slices);
  let x: ort.Tensor = hidden;
  const t0 = performance.now();
  for (let i = 0; i < LAYER_RUNS && (i < 2 || performance.now() - t0 < LAYER_BUDGET_MS); i++)
    x = await model.runLayer(hidden, maskBias, weights);
  await model.runHead(x);
}

/** libuv starts its threadpool on the first fs call; fs/promises and the manifest check load on first use. */
async function warmReads(store: ShardStore): Promise<void> {
  await Promise.all(Array.from({ length: 4 }, () => stat(store.dir)));
  await store.readAsync('config.json');
}

/** A shard of unit (layer, slice) at `bits` with made-up values, of the stored size (never written). */
export function syntheticShard(store: ShardStore, layer: number, slice: number, bits: number): Buffer {
  const { weights: count, biases: nb } = sliceCounts(store.config);
  const biases = new Float32Array(nb);
  if (bits === 32) return encodeShard({ layer, slice, bits, biases, weights: new Float32Array(count) });
  const outliers = Math.ceil(count / 1000);
  const packed = new Uint8Array(packedBytes(count, bits));
  for (let i = 0; i < packed.length; i++) packed[i] = (i * 151) & 255;
  const weights = {
    bits,
    count,
    centroids: Float32Array.from({ length: 2 ** bits }, (_, i) => i / 2 ** bits - 0.5),
    outlierPositions: Uint32Array.from({ length: outliers }, (_, i) => i * 1000),
    outlierValues: new Float32Array(outliers).fill(1),
    packed,
  };
  return encodeShard({ layer, slice, bits, biases, weights });
}

/** Each bitwidth's decoder, a few times on a full-size synthetic shard, into buffers the request does not use. */
function warmDecoders({ plan, store }: WarmUpInput, bits: number[]): void {
  const into = emptyLayer(store.config);
  for (const b of bits) {
    const u = plan.units.find((x) => x.bits === b)!;
    const data = syntheticShard(store, u.layer, u.slice, b);
    for (let i = 0; i < 4; i++) store.decodeInto(u.layer, u.slice, b, data, into);
  }
}

/** The executor's stages over the request's program, in virtual time with work that does nothing. */
async function warmExecutor({ program }: WarmUpInput): Promise<void> {
  const empty = Buffer.alloc(0);
  await execute({
    program,
    clock: new VirtualClock(),
    work: { readResident: () => empty, read: async () => empty, decode: () => {}, compute: async () => {} },
  });
}

/**
 * A full collection last, as a long-running app's heap would have settled: otherwise the warm-up's garbage
 * and the external memory it allocated (layer buffers, tensors) brought V8's external-memory limit within
 * reach of the request's reads, and a mark-compact of 9–12 ms (plus 16–21 ms of incremental marking) fell
 * inside the timed request. gc() is reached without --expose-gc on the command line.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
