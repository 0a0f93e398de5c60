/**
 * The pipelined executor: IO, decompress and compute stages running concurrently over a Program (see
 * schedule.ts), doing a family's real work at each task:
 *   IO         really reads each streamed unit's file (verified), paced at the profile's bandwidth plus
 *              per-request latency;
 *   decompress really dequantizes (or copies, for fp32) each unit into its step's buffers, on the CPU
 *              cluster of the run;
 *   compute    really runs each step (onnxruntime) once the units it needs are ready, taking the cost
 *              model's time for the SoC.
 * Tasks are placed by the same Schedule the planners' prediction uses, so under a VirtualClock a run's
 * events are the predicted ones. Under a RealClock a task whose real work took longer than modeled is
 * reported as an overrun and pushes its lane late.
 */
import { hostThreads } from '../core/threads.js';
import type { Clock, Signal } from './clock.js';
import { MemoryTracker, type MemoryCategory, type MemorySample } from './memory.js';
import { dependencies, laneOrders, Schedule, type Lane, type Program, type Task } from './schedule.js';
import type { TraceEvent } from './trace.js';

/**
 * onnxruntime intra-op threads for a run: the cores the run computes on, up to the host's, keeping one host
 * core for the IO and decompression stages (they run on the JavaScript thread) when the host has more than one.
 */
export function executorThreads(cores: number): number {
  const host = hostThreads();
  return Math.max(1, Math.min(cores, host > 1 ? host - 1 : 1));
}

/** A family's real work behind each task of its Program. */
export interface ProgramWork {
  /** A preloaded unit's bytes, read and verified before the request starts. */
  readResident(unit: number): Buffer;
  /** Reads a streamed unit's stored bytes from storage. */
  read(unit: number): Promise<Buffer>;
  /** Decodes a unit into the buffers of the step that needs it. */
  decode(unit: number, data: Buffer): void;
  /** Runs a step's compute. */
  compute(step: number): Promise<void>;
}

export interface ExecuteInput {
  program: Program;
  work: ProgramWork;
  clock: Clock;
  /** Bytes of activations held through the request (counted from its start). */
  activationBytes?: number;
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
  events: TraceEvent[];
  memory: MemorySample[];
  /** Persistent bytes and transient peak of each memory category. */
  memoryByCategory: Partial<Record<MemoryCategory, { persistent: number; peak: number }>>;
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

export async function execute(input: ExecuteInput): Promise<RunResult> {
  const { program, work, clock } = input;
  const { units, steps, bytes } = program;
  const schedule = new Schedule(program, input.onEvent);
  const orders = laneOrders(program);
  const deps = dependencies(program);
  const overruns: Overrun[] = [];
  const memory = new MemoryTracker();
  const loaded: Signal[] = units.map(() => clock.signal());
  const ready: Signal[] = units.map(() => clock.signal());
  const data: (Buffer | undefined)[] = units.map(() => undefined);
  // The step whose buffers a unit is decoded into: the first that needs it.
  const owner = new Int32Array(units.length).fill(-1);
  steps.forEach((s, i) => s.needs.forEach((u) => owner[u] === -1 && (owner[u] = i)));
  const allocated = new Uint8Array(steps.length);

  // The preload buffer: resident, verified units held before the request starts.
  units.forEach((u, i) => {
    if (!u.preload) return;
    data[i] = work.readResident(i);
    memory.hold(bytes[i], 'weights');
    loaded[i].fire(0);
  });
  memory.add(0, input.activationBytes ?? 0, 'activations');

  /**
   * Clock intervals in which the JavaScript thread ran a decode or a compute (onnxruntime-node runs a
   * session synchronously). A read's completion cannot be seen then, so under a RealClock that time is not
   * counted against the read: a device's storage does not wait for its CPU.
   */
  const blocked: [number, number][] = [];
  const blockedWithin = (t0: number, t1: number) =>
    blocked.reduce((a, [b0, b1]) => a + Math.max(0, Math.min(t1, b1) - Math.max(t0, b0)), 0);

  /**
   * Runs a task on a lane at its modeled start: real work, then hold the lane until the modeled end. Lanes
   * keep their own cursor of modeled time, so late wake-ups of a real clock do not add up; real work that
   * outlasts the modeled time pushes the lane late and is reported.
   */
  async function task(lane: Lane, e: Task, modeledUs: number, real: () => unknown) {
    const start = lane.cursor;
    await clock.until(start);
    const t0 = clock.now();
    await real();
    let end = start + modeledUs;
    // In virtual time real work takes none: nothing to measure, nothing to keep (sweeps run many plans).
    if (clock.mode === 'real') {
      const t1 = clock.now();
      if (e.stage !== 'io') blocked.push([t0, t1]);
      const actualUs = t1 - t0 - (e.stage === 'io' ? blockedWithin(t0, t1) : 0);
      if (actualUs > modeledUs) {
        overruns.push({ stage: e.stage, layer: e.layer, slice: e.slice, modeledUs, actualUs });
        end = Math.max(end, t0 + actualUs);
      }
    }
    await clock.until(end);
    return schedule.finish(lane, e, end);
  }

  async function waitFor(signal: Signal, lane: Lane, step: { layer: number; token?: number }): Promise<void> {
    await clock.wait(signal);
    schedule.waitUntil(lane, signal.at, step);
  }

  const measured = { ioStartUs: 0, ioEndUs: 0, endUs: 0 };
  async function ioStage(): Promise<void> {
    measured.ioStartUs = clock.now();
    for (const i of orders.io) {
      const { end } = await task(schedule.io, schedule.unitTask('io', i), program.ioUs[i], async () => {
        data[i] = await work.read(i);
      });
      memory.add(end, bytes[i], 'in-flight');
      loaded[i].fire(end);
    }
    measured.ioEndUs = clock.now();
  }

  async function decompress(i: number): Promise<void> {
    const u = units[i];
    await waitFor(loaded[i], schedule.cpu, u);
    const { end } = await task(schedule.cpu, schedule.unitTask('decompress', i), program.decompressUs[i], () => {
      const s = owner[i];
      if (s >= 0 && !allocated[s]) {
        allocated[s] = 1;
        memory.add(schedule.cpu.cursor, steps[s].bytes, 'step-buffers');
      }
      work.decode(i, data[i]!);
    });
    if (!u.preload) {
      memory.add(end, -bytes[i], 'in-flight');
      data[i] = undefined;
    }
    ready[i].fire(end);
  }

  async function compute(i: number, lane: Lane): Promise<void> {
    const step = steps[i];
    for (const d of deps[i]) await waitFor(ready[d], lane, step);
    const { end } = await task(lane, schedule.stepTask(i), step.computeUs, () => work.compute(i));
    if (allocated[i]) memory.add(end, -step.bytes, 'step-buffers');
  }

  async function cpuStage(): Promise<void> {
    for (const t of orders.cpu) {
      if (t.kind === 'decompress') await decompress(t.unit);
      else await compute(t.step, schedule.cpu);
    }
  }

  async function gpuStage(): Promise<void> {
    for (const i of orders.gpu) await compute(i, schedule.gpu);
  }

  const lanes = program.cpuComputes ? [ioStage, cpuStage] : [ioStage, cpuStage, gpuStage];
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
  measured.endUs = clock.now();
  const { events, makespanUs, stallUs } = schedule.timeline(true);
  const busy = (stage: TraceEvent['stage']) => events.filter((e) => e.stage === stage).reduce((a, e) => a + e.end - e.start, 0);
  const mem = memory.summary();
  return {
    events,
    memory: mem.samples,
    memoryByCategory: mem.byCategory,
    makespanUs,
    stallUs,
    ioBusyUs: busy('io'),
    decompressBusyUs: busy('decompress'),
    computeBusyUs: busy('compute'),
    persistentBytes: memory.persistent,
    peakTransientBytes: mem.peakTransient,
    peakBytes: memory.persistent + mem.peakTransient,
    ioBytes: orders.io.reduce((a, i) => a + bytes[i], 0),
    measured,
    overruns,
  };
}
