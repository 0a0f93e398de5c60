import cliProgress from 'cli-progress';
import { performance } from 'node:perf_hooks';

/**
 * Time left of a job from its rate so far: elapsed × (total − done) / done, measured from the first report
 * (undefined until some work is done). Work units must cost about the same for the estimate to hold.
 */
export function timeLeft(now: () => number = () => performance.now()): (done: number, total: number) => number | undefined {
  let start: number | undefined;
  let from = 0;
  return (done, total) => {
    const t = now();
    if (start === undefined) [start, from] = [t, done];
    if (done <= from || t <= start) return undefined;
    return ((t - start) / (done - from)) * Math.max(0, total - done);
  };
}

/** "45 s", "3 min 20 s", "1 h 5 min": a duration in milliseconds as people read it. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A progress bar on stderr when it is a terminal and output is for people, with the time left; otherwise nothing. */
export function progressBar(label: string, enabled: boolean): { update(done: number, total: number, note?: string): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} {left}{note}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  const eta = timeLeft();
  let started = false;
  return {
    update(done, total, note) {
      const ms = eta(done, total);
      const left = ms === undefined ? 'estimating time left' : `${formatDuration(ms)} left`;
      const tokens = { left, note: note ? `  ${note}` : '' };
      if (!started) {
        bar.start(total, done, tokens);
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, tokens);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
