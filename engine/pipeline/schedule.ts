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

/** A unit as the schedule sees it: where it belongs and whether it is preloaded (a plan's unit is one). */
export interface ScheduledUnit {
  layer: number;
  slice: number;
  bits: number;
  preload: boolean;
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
  units: readonly ScheduledUnit[];
  /**
   * Each unit's stored bytes, modeled IO time and modeled decompression time, µs, by unit index: columns
   * rather than fields of the units, so a program over a plan's units makes no object per unit (a large
   * plan's prediction was mostly such objects).
   */
  bytes: ArrayLike<number>;
  ioUs: ArrayLike<number>;
  decompressUs: ArrayLike<number>;
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
  if (!p.loadAllFirst) return p.steps.map((s) => s.needs);
  const all = p.units.map((_, i) => i);
  return p.steps.map(() => all);
}

/**
 * Each lane's task order. Units are decompressed once, in the order steps first need them; on a CPU that
 * computes, a step's units are decompressed right before it computes (all of them first, with
 * load-then-execute).
 */
export function laneOrders(p: Program): LaneOrders {
  // Sized up front (a large plan's orders grew by copying): io holds the streamed units, cpu at most every unit and step.
  let streamed = 0;
  for (const u of p.units) if (!u.preload) streamed++;
  const io = new Array<number>(streamed);
  for (let i = 0, k = 0; i < p.units.length; i++) if (!p.units[i].preload) io[k++] = i;
  const cpu = new Array<CpuTask>(p.units.length + p.steps.length);
  let tasks = 0;
  const gpu: number[] = [];
  const seen = new Uint8Array(p.units.length);
  const decompressFor = (s: Step) => {
    for (const unit of s.needs)
      if (!seen[unit]) {
        seen[unit] = 1;
        cpu[tasks++] = taskOf(DECOMPRESS, 'decompress', unit);
      }
  };
  // Where compute goes: its own GPU lane; after all decompression (load-then-execute); or after its step's units.
  const interleaved = p.cpuComputes && !p.loadAllFirst;
  p.steps.forEach((s, step) => {
    decompressFor(s);
    if (interleaved) cpu[tasks++] = taskOf(COMPUTE, 'compute', step);
    else if (!p.cpuComputes) gpu.push(step);
  });
  if (p.cpuComputes && p.loadAllFirst) p.steps.forEach((_, step) => (cpu[tasks++] = taskOf(COMPUTE, 'compute', step)));
  cpu.length = tasks;
  return { io, cpu, gpu };
}

// The CPU lane's tasks are made once per index and shared (they are never changed): a large plan's lane
// order was thousands of small objects per prediction.
const DECOMPRESS: CpuTask[] = [];
const COMPUTE: CpuTask[] = [];

function taskOf(made: CpuTask[], kind: CpuTask['kind'], i: number): CpuTask {
  return (made[i] ??= Object.freeze(kind === 'decompress' ? { kind, unit: i } : { kind, step: i }));
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

/**
 * Places tasks on lanes and records their events; predictor and executor share it. A schedule made with
 * `record` false keeps only the makespan and stall a timeline reports, for callers that need no events.
 */
export class Schedule {
  readonly events: TraceEvent[] = [];
  readonly io: Lane = { cursor: 0, computes: false };
  readonly cpu: Lane;
  readonly gpu: Lane = { cursor: 0, computes: true };
  /** Running makespan and stall, µs, in the order timeline() sums them over the events. */
  private endUs = 0;
  private stalledUs = 0;

  constructor(
    readonly program: Program,
    private readonly onEvent?: (e: TraceEvent) => void,
    private readonly record = true,
  ) {
    this.cpu = { cursor: 0, computes: program.cpuComputes };
  }

  private emit(
    stage: TraceEvent['stage'],
    layer: number,
    slice: number,
    bits: number,
    bytes: number,
    start: number,
    end: number,
    token: number | undefined,
    part?: string,
  ): void {
    this.endUs = Math.max(this.endUs, end);
    if (stage === 'stall') this.stalledUs += end - start;
    if (this.record) this.push(stage, layer, slice, bits, bytes, start, end, token, part);
  }

  /** Records an event (apart from emit, which stays small enough to inline: its numbers then stay unboxed). */
  private push(
    stage: TraceEvent['stage'],
    layer: number,
    slice: number,
    bits: number,
    bytes: number,
    start: number,
    end: number,
    token: number | undefined,
    part: string | undefined,
  ): void {
    // One property order (a token only where there is one), so the many events stay cheap.
    const e: TraceEvent =
      token === undefined ? { stage, layer, slice, bits, bytes, start, end } : { stage, layer, slice, bits, bytes, start, end, token };
    if (part !== undefined) e.part = part;
    this.events.push(e);
    this.onEvent?.(e);
  }

  /** Data a lane needs arrives at `at`: the lane moves up to it, and a computing lane records the wait as a stall. */
  waitUntil(lane: Lane, at: number, step: { layer: number; token?: number }): void {
    if (at <= lane.cursor) return;
    if (lane.computes) this.emit('stall', step.layer, -1, 0, 0, lane.cursor, at, step.token);
    lane.cursor = at;
  }

  /** A task ran on the lane from its cursor to `end`. */
  finish(lane: Lane, task: Task, end: number): { start: number; end: number } {
    const start = lane.cursor;
    this.emit(task.stage, task.layer, task.slice, task.bits, task.bytes, start, end, task.token, task.part);
    lane.cursor = end;
    return { start, end };
  }

  /** Unit i's IO or decompression ran on the lane for `us`; returns its end (finish without the task objects). */
  finishUnit(lane: Lane, stage: 'io' | 'decompress', i: number, us: number): number {
    const u = this.program.units[i];
    const start = lane.cursor;
    lane.cursor = start + us;
    this.emit(stage, u.layer, u.slice, u.bits, this.program.bytes[i], start, lane.cursor, u.token);
    return lane.cursor;
  }

  /** Step i computed on the lane for its modeled time. */
  finishStep(lane: Lane, i: number): void {
    const s = this.program.steps[i];
    const start = lane.cursor;
    lane.cursor = start + s.computeUs;
    this.emit('compute', s.layer, -1, 0, s.bytes, start, lane.cursor, s.token);
  }

  /** The IO or decompression task of unit i. */
  unitTask(stage: 'io' | 'decompress', i: number): Task {
    const u = this.program.units[i];
    return { stage, layer: u.layer, slice: u.slice, bits: u.bits, bytes: this.program.bytes[i], token: u.token };
  }

  /** The compute task of step i. */
  stepTask(i: number): Task {
    const s = this.program.steps[i];
    return { stage: 'compute', layer: s.layer, slice: -1, bits: 0, bytes: s.bytes, token: s.token };
  }

  /** The events, in time order when `sorted` (the executor's record; a prediction needs no order). */
  timeline(sorted = false): Timeline {
    if (!this.record) return { events: [], makespanUs: this.endUs, stallUs: this.stalledUs };
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

/**
 * The predicted timeline: every task at its modeled duration, no real work (microseconds per plan). Its
 * events are placed again when first read: planners, sweeps and grids of plans use the makespan and stall
 * only, and a large model's events were most of a plan's allocation (a view that draws them pays as before).
 */
export function predict(p: Program): Timeline {
  const { makespanUs, stallUs } = place(new Schedule(p, undefined, false));
  return new PredictedTimeline(p, makespanUs, stallUs);
}

/**
 * A class, not an object literal with a getter: V8 made each such literal a slow object, and a plan took
 * 3× longer. JSON (the engine process's replies) carries the events through toJSON.
 */
class PredictedTimeline implements Timeline {
  private placed?: TraceEvent[];

  constructor(
    private readonly program: Program,
    readonly makespanUs: number,
    readonly stallUs: number,
  ) {}

  get events(): TraceEvent[] {
    return (this.placed ??= place(new Schedule(this.program)).events);
  }

  toJSON(): Timeline {
    return { events: this.events, makespanUs: this.makespanUs, stallUs: this.stallUs };
  }
}

function place(s: Schedule): Timeline {
  const p = s.program;
  const orders = laneOrders(p);
  const deps = dependencies(p);
  const { loaded, ready } = unitTimes(p.units.length);
  for (const i of orders.io) loaded[i] = s.finishUnit(s.io, 'io', i, p.ioUs[i]);
  const compute = (lane: Lane, step: number) => {
    for (const d of deps[step]) s.waitUntil(lane, ready[d], p.steps[step]);
    s.finishStep(lane, step);
  };
  for (const t of orders.cpu) {
    if (t.kind === 'compute') compute(s.cpu, t.step);
    else {
      s.waitUntil(s.cpu, loaded[t.unit], p.units[t.unit]);
      ready[t.unit] = s.finishUnit(s.cpu, 'decompress', t.unit, p.decompressUs[t.unit]);
    }
  }
  for (const step of orders.gpu) compute(s.gpu, step);
  return s.timeline();
}

/**
 * When each unit is loaded and ready, µs: place's working arrays, kept from one call to the next (place
 * runs to its end before it runs again) because a planner predicts thousands of plans.
 */
const times = { loaded: new Float64Array(0), ready: new Float64Array(0) };

function unitTimes(n: number): { loaded: Float64Array; ready: Float64Array } {
  if (times.loaded.length < n) Object.assign(times, { loaded: new Float64Array(n), ready: new Float64Array(n) });
  times.loaded.fill(0, 0, n);
  times.ready.fill(0, 0, n);
  return times;
}
