/**
 * The predicted timeline of a plan: the executor's scheduling rules (plan/schedule.ts) with the cost
 * model's durations and no real work, so a planner can check a plan in microseconds. Under a
 * VirtualClock the executor produces exactly these events (a test holds them to it).
 */
import type { TraceEvent } from './trace.js';
import { fp32LayerBytes, type CostModel, type LayerShape } from '../soc/cost.js';
import type { Plan, ShardPlan } from '../families/bert/plan/plan.js';
import { cpuOrder } from './schedule.js';

export interface Timeline {
  events: TraceEvent[];
  makespanUs: number;
  stallUs: number;
}

export interface TimelineInput {
  plan: Plan;
  cost: CostModel;
  shape: LayerShape;
  seq: number;
  /** Stored bytes of a shard file. */
  bytesOf: (s: ShardPlan) => number;
}

const US = 1000;

export function predictTimeline({ plan, cost, shape, seq, bytesOf }: TimelineInput): Timeline {
  const events: TraceEvent[] = [];
  const loaded = new Map<ShardPlan, number>();
  const ready = new Map<ShardPlan, number>();
  let io = 0;
  for (const s of plan.shards) {
    if (s.preload) {
      loaded.set(s, 0);
      continue;
    }
    const start = io;
    io += cost.ioMs(bytesOf(s)) * US;
    events.push({ stage: 'io', layer: s.layer, slice: s.slice, bits: s.bits, bytes: bytesOf(s), start, end: io });
    loaded.set(s, io);
  }
  const cpuComputes = cost.settings.computeUnit === 'cpu';
  const cpu = { cursor: 0, computes: cpuComputes };
  const gpu = { cursor: 0, computes: true };
  const computeUs = cost.computeLayer(shape, plan.slices, seq).totalMs * US;
  const wait = (lane: { cursor: number; computes: boolean }, at: number, layer: number) => {
    if (at <= lane.cursor) return;
    if (lane.computes) events.push({ stage: 'stall', layer, slice: -1, bits: 0, bytes: 0, start: lane.cursor, end: at });
    lane.cursor = at;
  };
  const decompress = (s: ShardPlan) => {
    wait(cpu, loaded.get(s)!, s.layer);
    const start = cpu.cursor;
    cpu.cursor += cost.decompressMs(s.bits, bytesOf(s)) * US;
    events.push({ stage: 'decompress', layer: s.layer, slice: s.slice, bits: s.bits, bytes: bytesOf(s), start, end: cpu.cursor });
    ready.set(s, cpu.cursor);
  };
  const compute = (lane: { cursor: number; computes: boolean }, l: number) => {
    for (const s of plan.loadAllFirst ? plan.shards : plan.shards.filter((x) => x.layer === l)) wait(lane, ready.get(s)!, l);
    const start = lane.cursor;
    lane.cursor += computeUs;
    events.push({ stage: 'compute', layer: l, slice: -1, bits: 0, bytes: fp32LayerBytes(shape, plan.slices), start, end: lane.cursor });
  };
  if (cpuComputes) {
    for (const step of cpuOrder(plan)) {
      if (step.kind === 'decompress') decompress(step.shard);
      else compute(cpu, step.layer);
    }
  } else {
    plan.shards.forEach(decompress);
    for (let l = 0; l < plan.layers; l++) compute(gpu, l);
  }
  const computes = events.filter((e) => e.stage === 'compute');
  return {
    events,
    makespanUs: Math.max(0, ...computes.map((e) => e.end)),
    stallUs: events.filter((e) => e.stage === 'stall').reduce((a, e) => a + e.end - e.start, 0),
  };
}
