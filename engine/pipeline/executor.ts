/**
 * The pipelined executor: IO, decompress and compute stages running concurrently over a Plan.
 *   IO         really reads each non-preloaded shard file (verified), paced at the profile's bandwidth
 *              plus per-request latency;
 *   decompress really dequantizes (or copies, for fp32) each shard into its layer's fp32 buffers, on the
 *              CPU cluster of the run;
 *   compute    really runs each layer on onnxruntime once all its shards are ready, taking the cost
 *              model's time for the SoC.
 * When the CPU computes, decompression and compute share it: they form one lane and never overlap.
 * A stall is time the compute lane waits for data. Each task takes its modeled time on the clock; under
 * a RealClock a task whose real work took longer than modeled is reported as an overrun.
 */
import { availableParallelism } from 'node:os';
import type ort from 'onnxruntime-node';
import type { Batch } from '../families/bert/batch.js';
import type { BertModel } from '../families/bert/model.js';
import { sliceLayer, type LayerWeights } from '../families/bert/weights.js';
import type { Plan, ShardPlan } from '../families/bert/plan/plan.js';
import { cpuOrder } from './schedule.js';
import { emptyLayer } from '../families/bert/layout.js';
import type { ShardStore } from '../families/bert/shard-store.js';
import { fp32LayerBytes, type CostModel, type LayerShape } from '../soc/cost.js';
import type { Clock, Signal } from './clock.js';
import { MemoryTracker } from './memory.js';
import type { TraceEvent } from './trace.js';

/**
 * onnxruntime intra-op threads for a run: the cores the run computes on, up to the host's, keeping one host
 * core for the IO and decompression stages (they run on the JavaScript thread) when the host has more than one.
 */
export function executorThreads(cores: number): number {
  const host = availableParallelism();
  return Math.max(1, Math.min(cores, host > 1 ? host - 1 : 1));
}

export interface ExecuteInput {
  plan: Plan;
  store: ShardStore;
  model: BertModel;
  cost: CostModel;
  clock: Clock;
  batch: Batch;
  /** Called with each trace event as it happens (the workbench's Live view streams them). */
  onEvent?: (e: TraceEvent) => void;
}

export interface Overrun {
  stage: TraceEvent['stage'];
  layer: number;
  slice: number;
  modeledUs: number;
  actualUs: number;
}

export interface RunResult {
  logits: Float32Array;
  events: TraceEvent[];
  memory: { t: number; persistent: number; transient: number }[];
  makespanUs: number;
  stallUs: number;
  ioBusyUs: number;
  decompressBusyUs: number;
  computeBusyUs: number;
  persistentBytes: number;
  peakTransientBytes: number;
  peakBytes: number;
  /** Stored bytes streamed by the IO stage during the request. */
  ioBytes: number;
  /** Clock readings taken as things happened (equal to the modeled times under a VirtualClock). */
  measured: { ioStartUs: number; ioEndUs: number; endUs: number };
  overruns: Overrun[];
}

const US = 1000; // microseconds per millisecond

interface Lane {
  /** Modeled time at which the lane is free, µs. */
  cursor: number;
  /** Whether this lane computes layers (its waits are stalls). */
  computes: boolean;
}

interface ShardState {
  plan: ShardPlan;
  file: string;
  bytes: number;
  data?: Buffer;
  loaded: Signal;
  ready: Signal;
}

export async function execute(input: ExecuteInput): Promise<RunResult> {
  const { plan, store, model, cost, clock, batch } = input;
  const cfg = store.config;
  const events: TraceEvent[] = [];
  const emit = (e: TraceEvent) => {
    events.push(e);
    input.onEvent?.(e);
  };
  const overruns: Overrun[] = [];
  const memory = new MemoryTracker();
  const shards: ShardState[] = plan.shards.map((p) => {
    const file = store.entry(p.layer, p.slice, p.bits).file;
    return { plan: p, file, bytes: store.manifest.files[file].bytes, loaded: clock.signal(), ready: clock.signal() };
  });
  const byLayer = Array.from({ length: plan.layers }, (_, l) => shards.filter((s) => s.plan.layer === l));

  // The preload buffer: resident, verified shards held before the request starts.
  for (const s of shards.filter((x) => x.plan.preload)) {
    s.data = store.read(s.file);
    memory.persistent += s.bytes;
    s.loaded.fire(0);
  }

  // Layer buffers and their shared parts (biases, LayerNorms: a few KB) are set up before the request, as
  // an engine reusing its buffers across requests would; their memory is counted from a layer's first shard.
  const buffers: (LayerWeights | undefined)[] = Array.from({ length: plan.layers }, (_, l) => {
    const w = emptyLayer(cfg);
    store.sharedInto(l, w);
    return w;
  });
  const allocated = new Set<number>();
  const layerBytes = () => fp32LayerBytes(layerShape(store), plan.slices);
  const { hidden, maskBias } = await model.embedBatch(batch);
  const activationBytes = 2 * batch.size * batch.length * cfg.hidden * 4;
  memory.add(0, activationBytes);

  /**
   * Runs a task on a lane at its modeled start: real work, then hold the lane until the modeled end. Lanes
   * keep their own cursor of modeled time, so late wake-ups of a real clock do not add up; real work that
   * outlasts the modeled time pushes the lane late and is reported.
   */
  async function task(lane: Lane, stage: TraceEvent['stage'], layer: number, slice: number, modeledUs: number, work: () => unknown) {
    const start = lane.cursor;
    await clock.until(start);
    const t0 = clock.now();
    await work();
    const actualUs = clock.now() - t0;
    let end = start + modeledUs;
    if (clock.mode === 'real' && actualUs > modeledUs) {
      overruns.push({ stage, layer, slice, modeledUs, actualUs });
      end = Math.max(end, clock.now());
    }
    await clock.until(end);
    lane.cursor = end;
    return { start, end };
  }

  /** Waits for data; time the compute lane spends waiting is a stall. */
  async function waitFor(signal: Signal, layer: number, lane: Lane): Promise<void> {
    await clock.wait(signal);
    if (signal.at > lane.cursor) {
      if (lane.computes) emit({ stage: 'stall', layer, slice: -1, bits: 0, bytes: 0, start: lane.cursor, end: signal.at });
      lane.cursor = signal.at;
    }
  }

  const ioLane: Lane = { cursor: 0, computes: false };
  const cpuLane: Lane = { cursor: 0, computes: cost.settings.computeUnit === 'cpu' };
  const gpuLane: Lane = { cursor: 0, computes: true };

  const measured = { ioStartUs: 0, ioEndUs: 0, endUs: 0 };
  async function ioStage(): Promise<void> {
    measured.ioStartUs = clock.now();
    for (const s of shards) {
      if (s.plan.preload) continue;
      const { start, end } = await task(ioLane, 'io', s.plan.layer, s.plan.slice, cost.ioMs(s.bytes) * US, async () => {
        s.data = await store.readAsync(s.file);
      });
      emit({ stage: 'io', layer: s.plan.layer, slice: s.plan.slice, bits: s.plan.bits, bytes: s.bytes, start, end });
      memory.add(end, s.bytes);
      s.loaded.fire(end);
    }
    measured.ioEndUs = clock.now();
  }

  async function decompress(s: ShardState): Promise<void> {
    await waitFor(s.loaded, s.plan.layer, cpuLane);
    const l = s.plan.layer;
    const { start, end } = await task(cpuLane, 'decompress', l, s.plan.slice, cost.decompressMs(s.plan.bits, s.bytes) * US, () => {
      if (!allocated.has(l)) {
        allocated.add(l);
        memory.add(cpuLane.cursor, layerBytes());
      }
      store.decodeInto(l, s.plan.slice, s.plan.bits, s.data!, buffers[l]!);
    });
    emit({ stage: 'decompress', layer: l, slice: s.plan.slice, bits: s.plan.bits, bytes: s.bytes, start, end });
    if (!s.plan.preload) {
      memory.add(end, -s.bytes);
      s.data = undefined;
    }
    s.ready.fire(end);
  }

  let x: ort.Tensor = hidden;
  async function compute(l: number, lane: Lane): Promise<void> {
    const deps = plan.loadAllFirst ? shards : byLayer[l];
    for (const s of deps) await waitFor(s.ready, l, lane);
    const c = cost.computeLayer(layerShape(store), plan.slices, batch.length);
    const { start, end } = await task(lane, 'compute', l, -1, c.totalMs * US, async () => {
      x = await model.runLayer(x, maskBias, sliceLayer(cfg, buffers[l]!, plan.slices));
    });
    emit({ stage: 'compute', layer: l, slice: -1, bits: 0, bytes: layerBytes(), start, end });
    buffers[l] = undefined;
    memory.add(end, -layerBytes());
  }

  /** The CPU lane: decompression in plan order, and compute too when the CPU computes. */
  async function cpuStage(): Promise<void> {
    const order = cpuLane.computes ? cpuOrder(plan) : shards.map((s) => ({ kind: 'decompress' as const, shard: s.plan }));
    const stateOf = new Map(shards.map((s) => [s.plan, s]));
    for (const step of order) {
      if (step.kind === 'decompress') await decompress(stateOf.get(step.shard)!);
      else await compute(step.layer, cpuLane);
    }
  }

  async function gpuStage(): Promise<void> {
    for (let l = 0; l < plan.layers; l++) await compute(l, gpuLane);
  }

  const lanes = cpuLane.computes ? [ioStage, cpuStage] : [ioStage, cpuStage, gpuStage];
  clock.start();
  for (let i = 0; i < lanes.length; i++) clock.join();
  await Promise.all(
    lanes.map(async (lane) => {
      try {
        await lane();
      } finally {
        clock.leave();
      }
    }),
  );
  const logits = await model.runHead(x);
  measured.endUs = clock.now();
  const makespanUs = Math.max(0, ...events.map((e) => e.end));
  const busy = (stage: TraceEvent['stage']) => events.filter((e) => e.stage === stage).reduce((a, e) => a + e.end - e.start, 0);
  const mem = memory.summary();
  return {
    logits,
    events: events.sort((a, b) => a.start - b.start || a.end - b.end),
    memory: mem.samples,
    makespanUs,
    stallUs: busy('stall'),
    ioBusyUs: busy('io'),
    decompressBusyUs: busy('decompress'),
    computeBusyUs: busy('compute'),
    persistentBytes: memory.persistent,
    peakTransientBytes: mem.peakTransient,
    peakBytes: memory.persistent + mem.peakTransient,
    ioBytes: shards.filter((s) => !s.plan.preload).reduce((a, s) => a + s.bytes, 0),
    measured,
    overruns,
  };
}

/** A store's layer shape for the cost model (a BertConfig carries every field a LayerShape needs). */
export function layerShape(store: ShardStore): LayerShape {
  return store.config;
}
