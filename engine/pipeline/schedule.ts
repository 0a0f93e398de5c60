/**
 * The one lane schedule. A request is a Program: units (streamed or preloaded) and a sequence of compute
 * steps (BERT: one per layer; RWKV: one per layer per token), each needing some units decoded. Three
 * lanes run it: IO streams units in order; the CPU decompresses them (and computes too when the CPU is
 * the compute unit: then decompression and compute share one lane and never overlap); a GPU computes
 * steps while the CPU decompresses. A computing lane's wait for data is a stall.
 *
 * The planners' prediction (predict below) and the real executor (executor.ts) both place every task
 * through a Schedule in the same lane orders, so a plan's predicted timeline and its virtual-time run
 * are one computation, and makespan has one definition.
 */
import type { TraceEvent } from './trace.js';

/** A unit as the schedule sees it: where it belongs, its stored bytes and modeled durations. */
export interface ScheduledUnit {
  layer: number;
  slice: number;
  bits: number;
  /** Stored bytes of the unit's file. */
  bytes: number;
  preload: boolean;
  /** Modeled IO time, µs. */
  ioUs: number;
  /** Modeled decompression time, µs. */
  decompressUs: number;
  token?: number;
}

/** A compute step. */
export interface Step {
  layer: number;
  token?: number;
  /** Units (indices into Program.units) decoded before the step computes. */
  needs: number[];
  /** Modeled compute time, µs. */
  computeUs: number;
  /** Bytes the step's compute works on (its decoded weights): the compute event's bytes. */
  bytes: number;
}

export interface Program {
  units: ScheduledUnit[];
  steps: Step[];
  /** The CPU computes (one lane for decompression and compute), or a GPU computes while the CPU decompresses. */
  cpuComputes: boolean;
  /** Load-then-execute: no step computes before every unit is decoded. */
  loadAllFirst: boolean;
}

export type CpuTask = { kind: 'decompress'; unit: number } | { kind: 'compute'; step: number };

export interface LaneOrders {
  io: number[];
  cpu: CpuTask[];
  /** Steps the GPU lane computes (empty when the CPU computes). */
  gpu: number[];
}

/** Units each step waits for: its own, or every unit under load-then-execute. */
export function dependencies(p: Program): number[][] {
  const all = p.units.map((_, i) => i);
  return p.steps.map((s) => (p.loadAllFirst ? all : s.needs));
}

/**
 * Each lane's task order. Units are decompressed once, in the order steps first need them; on a CPU that
 * computes, a step's units are decompressed right before it computes (all of them first, with
 * load-then-execute).
 */
export function laneOrders(p: Program): LaneOrders {
  const io: number[] = [];
  p.units.forEach((u, i) => u.preload || io.push(i));
  const cpu: CpuTask[] = [];
  const gpu: number[] = [];
  const seen = new Uint8Array(p.units.length);
  const decompressFor = (s: Step) => {
    for (const unit of s.needs)
      if (!seen[unit]) {
        seen[unit] = 1;
        cpu.push({ kind: 'decompress', unit });
      }
  };
  // Where compute goes: its own GPU lane; after all decompression (load-then-execute); or after its step's units.
  const interleaved = p.cpuComputes && !p.loadAllFirst;
  p.steps.forEach((s, step) => {
    decompressFor(s);
    if (interleaved) cpu.push({ kind: 'compute', step });
    else if (!p.cpuComputes) gpu.push(step);
  });
  if (p.cpuComputes && p.loadAllFirst) p.steps.forEach((_, step) => cpu.push({ kind: 'compute', step }));
  return { io, cpu, gpu };
}

export interface Lane {
  /** Modeled time at which the lane is free, µs. */
  cursor: number;
  /** Whether this lane computes (its waits are stalls). */
  computes: boolean;
}

export interface Timeline {
  events: TraceEvent[];
  makespanUs: number;
  stallUs: number;
}

/** Places tasks on lanes and records their events; predictor and executor share it. */
export class Schedule {
  readonly events: TraceEvent[] = [];
  readonly io: Lane = { cursor: 0, computes: false };
  readonly cpu: Lane;
  readonly gpu: Lane = { cursor: 0, computes: true };

  constructor(
    readonly program: Program,
    private readonly onEvent?: (e: TraceEvent) => void,
  ) {
    this.cpu = { cursor: 0, computes: program.cpuComputes };
  }

  private emit(e: TraceEvent): void {
    this.events.push(e);
    this.onEvent?.(e);
  }

  /** Data a lane needs arrives at `at`: the lane moves up to it, and a computing lane records the wait as a stall. */
  waitUntil(lane: Lane, at: number, step: { layer: number; token?: number }): void {
    if (at <= lane.cursor) return;
    if (lane.computes) this.emit(event('stall', step.layer, -1, 0, 0, lane.cursor, at, step.token));
    lane.cursor = at;
  }

  /** A task ran on the lane from its cursor to `end`. */
  finish(lane: Lane, task: Task, end: number): { start: number; end: number } {
    const start = lane.cursor;
    const e = event(task.stage, task.layer, task.slice, task.bits, task.bytes, start, end, task.token);
    if (task.part !== undefined) e.part = task.part;
    this.emit(e);
    lane.cursor = end;
    return { start, end };
  }

  /** The IO or decompression task of unit i. */
  unitTask(stage: 'io' | 'decompress', i: number): Task {
    const u = this.program.units[i];
    return { stage, layer: u.layer, slice: u.slice, bits: u.bits, bytes: u.bytes, token: u.token };
  }

  /** The compute task of step i. */
  stepTask(i: number): Task {
    const s = this.program.steps[i];
    return { stage: 'compute', layer: s.layer, slice: -1, bits: 0, bytes: s.bytes, token: s.token };
  }

  /** The events, in time order when `sorted` (the executor's record; a prediction needs no order). */
  timeline(sorted = false): Timeline {
    const events = sorted ? [...this.events].sort((a, b) => a.start - b.start || a.end - b.end) : this.events;
    let makespanUs = 0;
    let stallUs = 0;
    for (const e of events) {
      makespanUs = Math.max(makespanUs, e.end);
      if (e.stage === 'stall') stallUs += e.end - e.start;
    }
    return { events, makespanUs, stallUs };
  }
}

/** What a task is, before it is placed. */
export interface Task {
  stage: TraceEvent['stage'];
  layer: number;
  slice: number;
  bits: number;
  bytes: number;
  token?: number;
  /** What part of a step the task is, where a step has several (RWKV: 'time-mix', 'predictor', 'ffn', …). */
  part?: string;
}

/** A trace event with one property order (a token only where there is one), so the many events stay cheap. */
function event(
  stage: TraceEvent['stage'],
  layer: number,
  slice: number,
  bits: number,
  bytes: number,
  start: number,
  end: number,
  token: number | undefined,
): TraceEvent {
  return token === undefined ? { stage, layer, slice, bits, bytes, start, end } : { stage, layer, slice, bits, bytes, start, end, token };
}

/** The predicted timeline: every task at its modeled duration, no real work (microseconds per plan). */
export function predict(p: Program): Timeline {
  const s = new Schedule(p);
  const orders = laneOrders(p);
  const deps = dependencies(p);
  const loaded = new Float64Array(p.units.length);
  const ready = new Float64Array(p.units.length);
  for (const i of orders.io) loaded[i] = s.finish(s.io, s.unitTask('io', i), s.io.cursor + p.units[i].ioUs).end;
  const compute = (lane: Lane, step: number) => {
    for (const d of deps[step]) s.waitUntil(lane, ready[d], p.steps[step]);
    s.finish(lane, s.stepTask(step), lane.cursor + p.steps[step].computeUs);
  };
  for (const t of orders.cpu) {
    if (t.kind === 'compute') compute(s.cpu, t.step);
    else {
      const u = p.units[t.unit];
      s.waitUntil(s.cpu, loaded[t.unit], u);
      ready[t.unit] = s.finish(s.cpu, s.unitTask('decompress', t.unit), s.cpu.cursor + u.decompressUs).end;
    }
  }
  for (const step of orders.gpu) compute(s.gpu, step);
  return s.timeline();
}
