import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RealClock } from '../engine/pipeline/clock.js';

describe('RealClock', () => {
  test('until resolves each waiter once its time has come, in time order, for waiters within and beyond the spin window', async () => {
    const clock = new RealClock();
    clock.start();
    const deadlines = [3500, 400, 1200, 400, 5000, 0, 2600];
    const woke: { t: number; at: number; waited: boolean }[] = [];
    await Promise.all(
      deadlines.map((d) => {
        const t = clock.now() + d;
        const waited = d > 0;
        return clock.until(t).then(() => woke.push({ t, at: clock.now(), waited }));
      }),
    );
    for (const w of woke) assert.ok(w.at >= w.t, `woke at ${w.at} µs for ${w.t}`);
    // Those that had to wait wake in deadline order (one already due resolves at once).
    const order = woke.filter((w) => w.waited).map((w) => w.t);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
  });

  test('a waiter that arrives while the ticker runs is served by it, and the ticker stops when no one waits', async () => {
    const clock = new RealClock();
    clock.start();
    await clock.until(500);
    const second = clock.now() + 300;
    await clock.until(second);
    assert.ok(clock.now() >= second);
    // Nothing left to wait for: the process's event loop is free to exit (node --test would hang otherwise).
  });
});
