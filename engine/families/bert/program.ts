/**
 * A BERT plan as the pipeline runs it: its shards are the units, each layer is one step that needs its
 * layer's shards (all of them under load-then-execute), and a step computes for the cost model's layer
 * time. predictPlan is the planners' timeline; executePlan really runs it on onnxruntime.
 */
import type ort from 'onnxruntime-node';
import type { Clock } from '../../pipeline/clock.js';
import { execute, type RunResult } from '../../pipeline/executor.js';
import type { Plan, PlanUnit } from '../../pipeline/plan.js';
import { predict, type Program, type Timeline } from '../../pipeline/schedule.js';
import type { TraceEvent } from '../../pipeline/trace.js';
import type { CostModel } from '../../soc/cost.js';
import type { Batch } from './batch.js';
import { computeLayer, fp32LayerBytes, type LayerShape } from './cost.js';
import { emptyLayer } from './layout.js';
import type { BertModel } from './model.js';
import type { ShardStore } from './shard-store.js';
import { warmUp, type WarmUpReport } from './warm-up.js';
import { sliceLayer, type LayerWeights } from './weights.js';

const US = 1000;

interface ProgramShape {
  plan: Plan;
  cost: CostModel;
  shape: LayerShape;
  /** Sequence length the request computes. */
  seq: number;
}

/** The units' stored bytes and modeled times, µs, by unit index. */
export type UnitColumns = Pick<Program, 'bytes' | 'ioUs' | 'decompressUs'>;

/** A plan's program: its units' columns from the planner's tables, or from each unit's stored bytes and the cost model. */
export type ProgramInput = ProgramShape & ({ bytesOf: (u: PlanUnit) => number } | { columns: UnitColumns });

export function bertProgram(input: ProgramInput): Program {
  const { plan, cost, shape, seq } = input;
  const columns = 'columns' in input ? input.columns : unitColumns(plan.units, cost, input.bytesOf);
  const needs: number[][] = Array.from({ length: plan.layers }, () => []);
  plan.units.forEach((u, i) => needs[u.layer].push(i));
  const computeUs = computeLayer(cost, shape, plan.slices, seq).totalMs * US;
  const bytes = fp32LayerBytes(shape, plan.slices);
  return {
    units: plan.units,
    ...columns,
    steps: needs.map((n, layer) => ({ layer, needs: n, computeUs, bytes })),
    cpuComputes: cost.settings.computeUnit === 'cpu',
    loadAllFirst: plan.loadAllFirst,
  };
}

function unitColumns(units: readonly PlanUnit[], cost: CostModel, bytesOf: (u: PlanUnit) => number): UnitColumns {
  const bytes = units.map(bytesOf);
  return {
    bytes,
    ioUs: bytes.map((b) => cost.ioMs(b) * US),
    decompressUs: units.map((u, i) => cost.decompressMs(u.bits, bytes[i]) * US),
  };
}

/** The predicted timeline of a plan (no real work). */
export function predictPlan(input: ProgramInput): Timeline {
  return predict(bertProgram(input));
}

export interface BertRunInput {
  plan: Plan;
  store: ShardStore;
  model: BertModel;
  cost: CostModel;
  clock: Clock;
  batch: Batch;
  onEvent?: (e: TraceEvent) => void;
  /** Warm up (see warm-up.ts) after the set-up, just before the clock starts: for real-time runs. */
  warmUp?: boolean;
}

export interface BertRunResult extends RunResult {
  logits: Float32Array;
  /** What was warmed before the clock started, when asked. */
  warmUp?: WarmUpReport;
}

/** The activations a run holds: the hidden state into and out of a layer, fp32. */
export function activationBytes(batch: Batch, hidden: number): number {
  return 2 * batch.size * batch.length * hidden * 4;
}

/**
 * Runs a plan for real: embeddings, then the pipelined layers (shard files read, dequantized into the
 * layer's buffers, the layer computed on onnxruntime), then the classifier head.
 */
export async function executePlan(input: BertRunInput): Promise<BertRunResult> {
  const { plan, store, model, cost, clock, batch, onEvent } = input;
  const cfg = store.config;
  const files = plan.units.map((u) => store.entry(u.layer, u.slice, u.bits).file);
  const program = bertProgram({ plan, cost, shape: cfg, seq: batch.length, bytesOf: (u) => store.shardBytes(u.layer, u.slice, u.bits) });
  // Layer buffers and their shared parts (biases, LayerNorms: a few KB) are set up before the request, as
  // an engine reusing its buffers across requests would; their memory is counted from a layer's first shard.
  const buffers: (LayerWeights | undefined)[] = Array.from({ length: plan.layers }, (_, l) => {
    const w = emptyLayer(cfg);
    store.sharedInto(l, w);
    return w;
  });
  const { hidden, maskBias } = await model.embedBatch(batch);
  let x: ort.Tensor = hidden;
  const warm = input.warmUp ? await warmUp({ plan, store, model, program, batch }) : undefined;
  const run = await execute({
    program,
    clock,
    onEvent,
    activationBytes: activationBytes(batch, cfg.hidden),
    work: {
      readResident: (i) => store.read(files[i]),
      read: (i) => store.readAsync(files[i]),
      decode: (i, data) => {
        const u = plan.units[i];
        store.decodeInto(u.layer, u.slice, u.bits, data, buffers[u.layer]!);
      },
      compute: async (l) => {
        x = await model.runLayer(x, maskBias, sliceLayer(cfg, buffers[l]!, plan.slices));
        buffers[l] = undefined;
      },
    },
  });
  const logits = await model.runHead(x);
  return { ...run, logits, warmUp: warm, measured: { ...run.measured, endUs: clock.now() } };
}
