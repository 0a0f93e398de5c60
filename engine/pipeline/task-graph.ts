/**
 * A request as a graph of tasks on two lanes (IO and CPU), for families whose reads depend on their own
 * compute: RWKV-edge reads the FFN rows a predictor picked a moment before, and the head rows of the
 * clusters the first level chose. schedule.ts's Program cannot say that (its IO order is fixed before the
 * request starts), so tasks here name the tasks they wait for, across lanes and tokens.
 *
 * Tasks come in batches (one per token), each in a causal order (a task after those it waits for), and
 * each lane takes its tasks in that order. Placing them in that order (placeTasks) is therefore the same
 * computation as running them (runTaskGraph), where each lane waits on the clock and does real work: the
 * prediction of a setting and its virtual-time run agree event for event.
 */
import type { Clock, Signal } from './clock.js';
import type { Overrun } from './executor.js';
import { Schedule, type Lane, type Task, type Timeline } from './schedule.js';
import type { TraceEvent } from './trace.js';

export interface GraphTask extends Task {
  lane: 'io' | 'cpu';
  /** Modeled duration, µs. */
  us: number;
  /** Global ids (creation order across batches) of the tasks this one starts after. */
  after: number[];
}

/** The lanes of a two-lane run: the CPU computes, so its waits are stalls. */
function schedule(onEvent?: (e: TraceEvent) => void): Schedule {
  return new Schedule({ units: [], bytes: [], ioUs: [], decompressUs: [], steps: [], cpuComputes: true, loadAllFirst: false }, onEvent);
}

const laneOf = (s: Schedule, t: GraphTask): Lane => (t.lane === 'io' ? s.io : s.cpu);

/** Places tasks at their modeled durations (no real work): the predicted timeline. `ends` gets each task's end. */
export function placeTasks(tasks: GraphTask[], ends: number[] = []): Timeline {
  const s = schedule();
  for (const t of tasks) {
    const lane = laneOf(s, t);
    let ready = 0;
    for (const d of t.after) ready = Math.max(ready, ends[d]!);
    s.waitUntil(lane, ready, t);
    ends.push(s.finish(lane, t, lane.cursor + t.us).end);
  }
  return s.timeline();
}

export interface TaskGraphInput {
  clock: Clock;
  /** The tasks of batch b (global ids continue from the previous batch), or undefined after the last. */
  batch(b: number): Promise<GraphTask[] | undefined>;
  /** The real work of task `id`. */
  work(id: number, task: GraphTask): unknown;
  /** Called at the end of every task with its modeled end (memory accounting). */
  done?(id: number, task: GraphTask, end: number): void;
  onEvent?: (e: TraceEvent) => void;
}

export interface TaskGraphResult extends Timeline {
  overruns: Overrun[];
}

/**
 * Runs the graph: each lane takes its tasks in order, waits for the tasks they name, then does the real work
 * and holds the lane for the modeled duration (a real clock reports real work that took longer).
 */
export async function runTaskGraph(input: TaskGraphInput): Promise<TaskGraphResult> {
  const { clock } = input;
  const s = schedule(input.onEvent);
  const signals: Signal[] = [];
  const overruns: Overrun[] = [];
  type Batch = { tasks: GraphTask[]; first: number } | undefined;
  const batches: Promise<Batch>[] = [];
  let next = 0;
  // Batches are asked for once, in order, whichever lane reaches them first.
  const batchAt = (b: number): Promise<Batch> =>
    (batches[b] ??= (b === 0 ? Promise.resolve(undefined) : batchAt(b - 1)).then(async () => {
      const tasks = await input.batch(b);
      if (!tasks) return undefined;
      const first = next;
      next += tasks.length;
      for (let i = 0; i < tasks.length; i++) signals.push(clock.signal());
      return { tasks, first };
    }));

  async function lane(name: 'io' | 'cpu'): Promise<void> {
    const l = name === 'io' ? s.io : s.cpu;
    for (let b = 0; ; b++) {
      const got = await batchAt(b);
      if (!got) return;
      for (let i = 0; i < got.tasks.length; i++) {
        const t = got.tasks[i]!;
        if (t.lane !== name) continue;
        const id = got.first + i;
        let ready = 0;
        for (const d of t.after) {
          await clock.wait(signals[d]!);
          ready = Math.max(ready, signals[d]!.at);
        }
        s.waitUntil(l, ready, t);
        const start = l.cursor;
        await clock.until(start);
        const t0 = clock.now();
        await input.work(id, t);
        const actualUs = clock.now() - t0;
        let end = start + t.us;
        if (clock.mode === 'real' && actualUs > t.us) {
          overruns.push({ stage: t.stage, layer: t.layer, slice: t.slice, modeledUs: t.us, actualUs });
          end = Math.max(end, clock.now());
        }
        await clock.until(end);
        s.finish(l, t, end);
        input.done?.(id, t, end);
        signals[id]!.fire(end);
      }
    }
  }

  clock.start();
  clock.join();
  clock.join();
  await Promise.all(
    (['io', 'cpu'] as const).map(async (name) => {
      try {
        await lane(name);
      } finally {
        clock.leave();
      }
    }),
  );
  return { ...s.timeline(true), overruns };
}
