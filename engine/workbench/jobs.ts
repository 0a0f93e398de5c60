/**
 * The host's long jobs: each runs in a child process of its own (worker.ts), at most `slots` at once (the
 * rest wait in order, told 'queued'), and every job settles exactly once: done, error or cancelled.
 * Cancelling asks the job to stop between batches; one that does not stop within the grace is killed,
 * which is always safe for the host (what the job stored so far stays: importance rows and accuracies are
 * written one by one, a sweep only when complete). A job whose process dies is reported as an error
 * saying so, never left running.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ActiveJob, AppInfo, JobEvent, JobSpec } from './api.js';
import type { JobMessage, WorkerData } from './worker.js';

const ENTRY = fileURLToPath(new URL('./worker.js', import.meta.url));
/** How long a cancelled job may take to stop on its own before its process is killed. */
export const CANCEL_GRACE_MS = 3000;
/** How long a settled job's process may take to exit before it is killed. */
const EXIT_GRACE_MS = 5000;

/** Forks an engine process and tells it what it is. Electron's fork runs the child as plain Node. */
export function forkEngine(data: WorkerData): ChildProcess {
  const child = fork(ENTRY, [], {
    serialization: 'advanced',
    env: { ...process.env },
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.send(data);
  return child;
}

/** How a process ended, in words: "killed by SIGKILL", "exit code 134". */
export function howItEnded(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

interface Job {
  jobId: string;
  spec: JobSpec;
  child?: ChildProcess;
  settled: boolean;
  cancelRequested: boolean;
  exited?: Promise<void>;
}

export class JobPool {
  private nextJob = 1;
  private readonly queue: Job[] = [];
  private readonly running = new Map<string, Job>();
  private closing = false;

  constructor(
    private readonly host: AppInfo['host'],
    private readonly emit: (e: JobEvent) => void,
    /** How many jobs run at once: one per core by default (each job uses one onnxruntime thread). */
    readonly slots = Math.max(1, availableParallelism()),
  ) {}

  start(spec: JobSpec): { jobId: string } {
    const job: Job = { jobId: `job-${this.nextJob++}`, spec, settled: false, cancelRequested: false };
    this.queue.push(job);
    if (this.running.size >= this.slots) this.send(job, { type: 'queued', ahead: this.queue.length - 1 });
    // After the caller has the job's id: its first events then follow the answer in the usual order.
    setImmediate(() => this.pump());
    return { jobId: job.jobId };
  }

  cancel(jobId: string): { cancelled: boolean } {
    const at = this.queue.findIndex((j) => j.jobId === jobId);
    if (at >= 0) {
      const [job] = this.queue.splice(at, 1);
      this.settle(job, { type: 'cancelled' });
      this.announceQueue();
      return { cancelled: true };
    }
    const job = this.running.get(jobId);
    if (!job || job.settled || job.cancelRequested) return { cancelled: false };
    job.cancelRequested = true;
    job.child!.send({ cancel: true });
    setTimeout(() => {
      if (!job.settled) job.child!.kill('SIGKILL');
    }, CANCEL_GRACE_MS).unref();
    return { cancelled: true };
  }

  active(): ActiveJob[] {
    return [
      ...[...this.running.values()]
        .filter((j) => !j.settled)
        .map((j) => ({ jobId: j.jobId, kind: j.spec.kind, state: 'running' as const })),
      ...this.queue.map((j) => ({ jobId: j.jobId, kind: j.spec.kind, state: 'queued' as const })),
    ];
  }

  /** The process id of a running job (for tests that kill it). */
  pid(jobId: string): number | undefined {
    return this.running.get(jobId)?.child?.pid;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.queue.length = 0;
    const exits = [...this.running.values()].map((j) => {
      j.child!.kill('SIGKILL');
      return j.exited;
    });
    await Promise.all(exits);
  }

  private send(job: Job, e: { type: 'queued'; ahead: number } | { type: 'cancelled' } | { type: 'error'; message: string }): void {
    this.emit({ jobId: job.jobId, kind: job.spec.kind, ...e });
  }

  private settle(job: Job, e: { type: 'cancelled' } | { type: 'error'; message: string }): void {
    if (job.settled) return;
    job.settled = true;
    this.send(job, e);
  }

  private announceQueue(): void {
    this.queue.forEach((j, ahead) => this.send(j, { type: 'queued', ahead }));
  }

  private pump(): void {
    let moved = false;
    while (!this.closing && this.running.size < this.slots && this.queue.length) {
      this.launch(this.queue.shift()!);
      moved = true;
    }
    if (moved && this.queue.length) this.announceQueue();
  }

  private launch(job: Job): void {
    const child = forkEngine({ mode: 'job', host: this.host, jobId: job.jobId, spec: job.spec });
    job.child = child;
    this.running.set(job.jobId, job);
    child.on('message', (m: JobMessage) => {
      if (job.settled) return;
      const t = m.event.type;
      if (t === 'done' || t === 'error' || t === 'cancelled') {
        job.settled = true;
        // A process that settled but hangs on its way out is not left holding a slot.
        setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS).unref();
      }
      this.emit(m.event);
    });
    child.on('error', (e) => this.settle(job, { type: 'error', message: `the job's process could not run: ${e.message}` }));
    job.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (job.cancelRequested) this.settle(job, { type: 'cancelled' });
        else if (!this.closing)
          this.settle(job, {
            type: 'error',
            message: `the job's process died (${howItEnded(code, signal)}) before it finished; start it again`,
          });
        this.running.delete(job.jobId);
        resolve();
        this.pump();
      }),
    );
  }
}
