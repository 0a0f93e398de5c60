/**
 * What a host (Electron's main process, the browser bridge) holds: the engine in workers. Calls go to one
 * long-lived service worker; each long job gets a worker of its own, so a job never delays a slider's
 * plan, and a job that does not stop when cancelled is ended with its worker (what it stored so far stays:
 * importance rows and accuracies are written one by one, a sweep only when complete).
 */
import { Worker } from 'node:worker_threads';
import type { AppInfo, JobEvent, JobSpec, MethodName } from './api.js';
import { CallError } from './call-error.js';
import { validateCall } from './validate.js';
import type { JobMessage, ServiceReply, WorkerData } from './worker.js';

export { CallError };

const WORKER = new URL('./worker.js', import.meta.url);
/** How long a cancelled job may take to stop on its own before its worker is terminated. */
const CANCEL_GRACE_MS = 3000;

interface Job {
  worker: Worker;
  spec: JobSpec;
  finished: boolean;
}

export class WorkbenchHost {
  private service: Worker | undefined;
  private nextId = 1;
  private nextJob = 1;
  private readonly pending = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly jobs = new Map<string, Job>();
  private readonly listeners = new Set<(e: JobEvent) => void>();

  constructor(private readonly kind: AppInfo['host']) {}

  private serviceWorker(): Worker {
    if (this.service) return this.service;
    const w = new Worker(WORKER, { workerData: { mode: 'service', host: this.kind } satisfies WorkerData });
    w.on('message', (m: ServiceReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new CallError(m.user ? `${p.method}: ${m.error}` : m.error, m.user));
    });
    w.on('error', (e) => this.failAll(`the engine worker failed: ${e.message}`));
    w.on('exit', () => {
      this.service = undefined;
      this.failAll('the engine worker exited');
    });
    this.service = w;
    return w;
  }

  private failAll(message: string): void {
    for (const p of this.pending.values()) p.reject(new CallError(message, false));
    this.pending.clear();
  }

  onEvent(listener: (e: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: JobEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** Validates and runs one call. Throws CallError (user = true for anything the caller can fix). */
  async call(method: unknown, payload: unknown): Promise<unknown> {
    let v: { method: MethodName; payload: unknown };
    try {
      v = validateCall(method, payload);
    } catch (e) {
      throw new CallError((e as Error).message, true);
    }
    if (v.method === 'startJob') return this.startJob(v.payload as JobSpec);
    if (v.method === 'cancelJob') return this.cancelJob((v.payload as { jobId: string }).jobId);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method: v.method, resolve, reject });
      this.serviceWorker().postMessage({ id, method: v.method, payload: v.payload });
    });
  }

  private startJob(spec: JobSpec): { jobId: string } {
    const jobId = `job-${this.nextJob++}`;
    const worker = new Worker(WORKER, { workerData: { mode: 'job', host: this.kind, jobId, spec } satisfies WorkerData });
    const job: Job = { worker, spec, finished: false };
    this.jobs.set(jobId, job);
    worker.on('message', (m: JobMessage) => {
      if (m.event.type === 'done' || m.event.type === 'error' || m.event.type === 'cancelled') job.finished = true;
      this.emit(m.event);
    });
    worker.on('error', (e) => {
      job.finished = true;
      this.emit({ jobId, kind: spec.kind, type: 'error', message: `internal error: ${e.message}` });
    });
    worker.on('exit', () => {
      if (!job.finished) {
        job.finished = true;
        this.emit({ jobId, kind: spec.kind, type: 'cancelled' });
      }
      this.jobs.delete(jobId);
    });
    return { jobId };
  }

  private cancelJob(jobId: string): { cancelled: boolean } {
    const job = this.jobs.get(jobId);
    if (!job || job.finished) return { cancelled: false };
    job.worker.postMessage({ cancel: true });
    setTimeout(() => {
      if (!job.finished) void job.worker.terminate();
    }, CANCEL_GRACE_MS).unref();
    return { cancelled: true };
  }

  async close(): Promise<void> {
    for (const j of this.jobs.values()) await j.worker.terminate();
    await this.service?.terminate();
  }
}
