import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RealClock } from '../engine/pipeline/clock.js';
import { execute } from '../engine/pipeline/executor.js';
import type { Program } from '../engine/pipeline/schedule.js';

/** A real-mode clock whose time moves only when told: waiting jumps to the deadline, work advances it. */
class StepClock extends RealClock {
  t = 0;
  override start(): void {}
  override now(): number {
    return this.t;
  }
  override until(t: number): Promise<void> {
    return new Promise((resolve) =>
      setImmediate(() => {
        this.t = Math.max(this.t, t);
        resolve();
      }),
    );
  }
}

/**
 * Unit 0 is preloaded and layer 0 computes on it at once, while the IO lane reads unit 1 for layer 1 (modeled
 * 5 ms). The compute holds the JavaScript thread for `computeMs` of real time; the read's bytes are there
 * when the thread is free, after `readMs` of its own.
 */
async function run(computeMs: number, readMs: number) {
  const unit = { slice: 0, bits: 32 };
  const program: Program = {
    units: [
      { ...unit, layer: 0, preload: true },
      { ...unit, layer: 1, preload: false },
    ],
    bytes: [100, 100],
    ioUs: [5000, 5000],
    decompressUs: [10, 10],
    steps: [0, 1].map((layer) => ({ layer, needs: [layer], computeUs: 20_000, bytes: 100 })),
    cpuComputes: true,
    loadAllFirst: false,
  };
  const clock = new StepClock();
  let computed!: () => void;
  const computing = new Promise<void>((resolve) => (computed = resolve));
  const data = Buffer.alloc(100);
  return execute({
    program,
    clock,
    work: {
      readResident: () => data,
      read: async () => {
        await computing;
        // An IO completion is handled in a later phase of the event loop than the compute's own continuation.
        await new Promise((resolve) => setImmediate(resolve));
        clock.t += readMs * 1000;
        return data;
      },
      decode: () => {},
      compute: async (step) => {
        if (step === 0) {
          clock.t += computeMs * 1000;
          computed();
        }
      },
    },
  });
}

describe('executor under a real clock: a read and the JavaScript thread', () => {
  test('time the thread spent computing is not counted against a read in flight', async () => {
    const r = await run(12, 1);
    assert.deepEqual(r.overruns, [], 'the read took 1 ms of its 5; the compute held the thread for 12');
    const io = r.events.find((e) => e.stage === 'io')!;
    assert.equal(io.end, 5000);
  });

  test('a read slower than modeled on its own is still an overrun, by its own time', async () => {
    const r = await run(12, 7);
    assert.equal(r.overruns.length, 1);
    assert.equal(r.overruns[0].stage, 'io');
    // Its 7 ms, and the 10 µs it waited before the compute took the thread.
    assert.equal(r.overruns[0].actualUs, 7010);
    assert.equal(r.events.find((e) => e.stage === 'io')!.end, 7010);
  });
});
