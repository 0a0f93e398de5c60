/**
 * A pool of worker threads that evaluate configurations side by side (pool-thread.ts), each with one
 * onnxruntime thread: a sweep's uncached configurations on all cores, and a queue worker's concurrency.
 */
import { Worker } from 'node:worker_threads';
import { UserError } from '../core/errors.js';
import type { QualityRow } from '../store/db.js';
import type { EvaluationJob } from './evaluation.js';

/** A thread's answer to job `id`: the quality row, or the error's message (a UserError's is bad input). */
export type PoolReply = { id: number; row: QualityRow } | { id: number; error: string; userError: boolean };

interface Waiting {
  job: EvaluationJob;
  resolve: (row: QualityRow) => void;
  reject: (e: Error) => void;
}

export class EvaluationPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<number, { worker: Worker; waiting: Waiting }>();
  private readonly queue: Waiting[] = [];
  private readonly all: Worker[] = [];
  private nextId = 0;

  private closed = false;

  constructor(
    size: number,
    private readonly opts: { modelsRoot?: string } = {},
  ) {
    for (let i = 0; i < size; i++) this.spawn();
  }

  private spawn(): void {
    const w = new Worker(new URL('./pool-thread.js', import.meta.url), { workerData: { threads: 1, ...this.opts } });
    w.on('message', (r: PoolReply) => this.answered(w, r));
    w.on('error', (e) => this.crashed(w, e));
    this.all.push(w);
    this.idle.push(w);
  }

  get size(): number {
    return this.all.length;
  }

  /** Evaluates a job on the next free thread. */
  evaluate(job: EvaluationJob): Promise<QualityRow> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const waiting = this.queue.shift()!;
      const id = this.nextId++;
      this.busy.set(id, { worker, waiting });
      worker.postMessage({ id, job: waiting.job });
    }
  }

  private answered(worker: Worker, r: PoolReply): void {
    const b = this.busy.get(r.id);
    if (!b) return;
    this.busy.delete(r.id);
    this.idle.push(worker);
    if ('row' in r) b.waiting.resolve(r.row);
    else b.waiting.reject(r.userError ? new UserError(r.error) : new Error(r.error));
    this.dispatch();
  }

  /** A thread that died takes its job with it: that job fails, a new thread takes its place. */
  private crashed(worker: Worker, e: Error): void {
    for (const [id, b] of this.busy)
      if (b.worker === worker) {
        this.busy.delete(id);
        b.waiting.reject(new Error(`evaluation thread failed: ${e.message}`));
      }
    this.all.splice(this.all.indexOf(worker), 1);
    const idle = this.idle.indexOf(worker);
    if (idle >= 0) this.idle.splice(idle, 1);
    if (this.closed) return;
    this.spawn();
    this.dispatch();
  }

  /** Ends the threads; jobs in hand and not started fail. */
  async close(): Promise<void> {
    this.closed = true;
    const closed = new Error('the evaluation pool was closed');
    for (const w of this.queue.splice(0)) w.reject(closed);
    for (const b of this.busy.values()) b.waiting.reject(closed);
    this.busy.clear();
    await Promise.all(this.all.map((w) => w.terminate()));
    this.all.length = 0;
    this.idle.length = 0;
  }
}
