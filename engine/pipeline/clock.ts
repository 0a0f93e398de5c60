/**
 * Clocks for the executor. The same stage code runs under both; only waiting differs.
 *   RealClock:    now() is wall time since start; until(t) sleeps.
 *   VirtualClock: time jumps. A discrete-event clock: it advances to the earliest pending until() only
 *                 when every stage is waiting (on time or on a signal), so the real work in between
 *                 (file reads, dequantization, onnxruntime) takes no modeled time at all.
 * Times are microseconds since the start of the request.
 */
import { performance } from 'node:perf_hooks';

/** A one-shot event a stage can wait for (a shard decompressed, a layer computed), with the time it happened. */
export interface Signal {
  readonly fired: boolean;
  /** The (modeled) time it fired, in µs. */
  readonly at: number;
  fire(at: number): void;
}

export interface Clock {
  readonly mode: 'virtual' | 'real';
  now(): number;
  /** Resolves at time t (at once if t is not in the future). */
  until(t: number): Promise<void>;
  signal(): Signal;
  wait(s: Signal): Promise<void>;
  /** A stage joins the run (it counts as busy until it waits). */
  join(): void;
  /** A stage is done for good. */
  leave(): void;
  /** Time zero is now: the request starts (after the preload buffer and the set-up that is not modeled). */
  start(): void;
}

class PromiseSignal implements Signal {
  fired = false;
  at = 0;
  private waiters: (() => void)[] = [];
  constructor(private readonly onFire: (waiters: number) => void = () => {}) {}
  fire(at: number): void {
    if (this.fired) return;
    this.fired = true;
    this.at = at;
    this.onFire(this.waiters.length);
    for (const w of this.waiters.splice(0)) w();
  }
  wait(): Promise<void> {
    return this.fired ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** How close to a deadline RealClock stops trusting timers, ms. */
const SPIN_MS = 2;
/** The longest a spinning RealClock naps between turns of the event loop, ms; bounds how late an IO completion is seen. */
const NAP_MS = 0.05;
/** How far a nap may overshoot (Linux's default timer slack is 50 µs), ms: the last stretch before a deadline is spun. */
const NAP_SLACK_MS = 0.1;
const NAP = new Int32Array(new SharedArrayBuffer(4));

export class RealClock implements Clock {
  readonly mode = 'real';
  private t0 = performance.now();
  /** Every pending until(), in deadline order, served by one ticker (see tick). */
  private readonly waiting: { t: number; resolve: () => void }[] = [];
  private timer?: NodeJS.Timeout;
  private ticking = false;
  start(): void {
    this.t0 = performance.now();
  }
  now(): number {
    return (performance.now() - this.t0) * 1000;
  }
  until(t: number): Promise<void> {
    if (t <= this.now()) return Promise.resolve();
    return new Promise((resolve) => {
      const w = this.waiting;
      let i = w.length;
      while (i > 0 && w[i - 1].t > t) i--;
      w.splice(i, 0, { t, resolve });
      if (!this.ticking && i === 0) this.next(this.now(), false);
    });
  }
  /**
   * Sleeps on a timer to within SPIN_MS of the earliest deadline, then turns the event loop until it: Node's
   * timers fire a millisecond late or more, which a task of a few microseconds (an RNN step's parts)
   * cannot absorb.
   */
  private next(now: number, nap: boolean): void {
    clearTimeout(this.timer);
    const ms = (this.waiting[0].t - now) / 1000;
    if (ms > SPIN_MS) {
      this.timer = setTimeout(this.tick, ms - SPIN_MS);
      return;
    }
    // Nap a little on the JavaScript thread (IO completes meanwhile, on libuv's threads) unless the deadline
    // is closer than the kernel's timer slack: a bare turn of the loop every microsecond, each with its
    // promise, made some 37 MB of garbage a request and scavenges inside its modeled time.
    const napMs = ms - NAP_SLACK_MS;
    if (nap && napMs > 0) Atomics.wait(NAP, 0, 0, Math.min(NAP_MS, napMs));
    this.ticking = true;
    setImmediate(this.tick);
  }
  /** Resolves, in deadline order, every until() whose time has come; waits for the next. */
  private readonly tick = (): void => {
    this.ticking = false;
    const now = this.now();
    const w = this.waiting;
    while (w.length > 0 && w[0].t <= now) w.shift()!.resolve();
    if (w.length > 0) this.next(now, true);
  };
  signal(): Signal {
    return new PromiseSignal();
  }
  wait(s: Signal): Promise<void> {
    return (s as PromiseSignal).wait();
  }
  join(): void {}
  leave(): void {}
}

export class VirtualClock implements Clock {
  readonly mode = 'virtual';
  private t = 0;
  private busy = 0;
  private readonly timers: { t: number; seq: number; resolve: () => void }[] = [];
  private seq = 0;

  now(): number {
    return this.t;
  }

  start(): void {
    // Virtual time is zero until the first until(); nothing to do.
  }

  join(): void {
    this.busy++;
  }

  leave(): void {
    this.idle();
  }

  until(t: number): Promise<void> {
    if (t <= this.t) return Promise.resolve();
    return new Promise((resolve) => {
      this.timers.push({ t, seq: this.seq++, resolve });
      this.idle();
    });
  }

  signal(): Signal {
    // Waking waiters makes them busy synchronously, before any other stage can see the clock idle.
    return new PromiseSignal((waiters) => (this.busy += waiters));
  }

  async wait(s: Signal): Promise<void> {
    if (s.fired) return;
    const p = (s as PromiseSignal).wait();
    this.idle();
    await p;
  }

  private idle(): void {
    this.busy--;
    if (this.busy > 0 || this.timers.length === 0) return;
    this.timers.sort((a, b) => a.t - b.t || a.seq - b.seq);
    const next = this.timers.shift()!;
    this.t = next.t;
    this.busy++;
    next.resolve();
  }
}
