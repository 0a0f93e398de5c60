/**
 * A real-time clock in slow motion for the Live view: every modeled microsecond takes `slowdown` on the
 * wall clock, so a 200 ms request on a small model can be watched. The work is real and paced exactly as
 * RealClock paces it, only stretched; a task whose real work outlasts its stretched time is an overrun.
 */
import { performance } from 'node:perf_hooks';
import { RealClock } from '../pipeline/clock.js';

export class ScaledRealClock extends RealClock {
  private origin = performance.now();
  constructor(readonly slowdown: number) {
    super();
  }
  override start(): void {
    super.start();
    this.origin = performance.now();
  }
  override now(): number {
    return ((performance.now() - this.origin) * 1000) / this.slowdown;
  }
  override until(t: number): Promise<void> {
    const ms = ((t - this.now()) / 1000) * this.slowdown;
    return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
  }
}
