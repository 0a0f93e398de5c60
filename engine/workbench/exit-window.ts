/**
 * A supervisor's memory of a child process's unexpected exits: how many fell within a sliding window, so
 * a one-off death is restarted and a crash loop is not. Used by the host for its service process and by
 * the desktop app for its engine process.
 */
export class ExitWindow {
  private times: number[] = [];

  constructor(private readonly windowMs: number) {}

  /** Records an exit at `now`; returns how many exits fell within the window, this one included. */
  record(now = Date.now()): number {
    this.times = [...this.times.filter((t) => now - t < this.windowMs), now];
    return this.times.length;
  }
}
