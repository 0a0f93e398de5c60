/**
 * What a host holds (the browser bridge, or the desktop app's engine process: plain Node either way): the
 * engine in child processes. Calls go to one long-lived service process; long jobs run in processes of their own (jobs.ts), so a job never
 * delays a slider's plan and killing one never touches the host. If the service process dies, the calls
 * it was answering fail with one line, it is started again at once, and listeners hear an EngineEvent.
 */
import type { ChildProcess } from 'node:child_process';
import type { AppInfo, EngineEvent, JobEvent, JobSpec, MethodName } from './api.js';
import { CallError } from './call-error.js';
import { ExitWindow } from './exit-window.js';
import { forkEngine, howItEnded, JobPool } from './jobs.js';
import { validateCall } from './validate.js';
import type { ServiceCall, ServiceReply } from './worker.js';

/** Restarts allowed within RESTART_WINDOW_MS before the service is only started again by the next call. */
const MAX_QUICK_RESTARTS = 3;
const RESTART_WINDOW_MS = 10_000;

export { CallError };

export class WorkbenchHost {
  private service: ChildProcess | undefined;
  private nextId = 1;
  private closing = false;
  private readonly exits = new ExitWindow(RESTART_WINDOW_MS);
  private readonly pending = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<(e: JobEvent) => void>();
  private readonly engineListeners = new Set<(e: EngineEvent) => void>();
  readonly jobs: JobPool;

  constructor(
    private readonly kind: AppInfo['host'],
    opts: { jobSlots?: number } = {},
  ) {
    this.jobs = new JobPool(kind, (e) => this.emit(e), opts.jobSlots);
  }

  /** The service process, started if it is not running. */
  private serviceProcess(): ChildProcess {
    if (this.service) return this.service;
    const child = forkEngine({ mode: 'service', host: this.kind });
    child.on('message', (m: ServiceReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new CallError(m.user ? `${p.method}: ${m.error}` : m.error, m.user));
    });
    child.on('error', (e) => this.serviceDied(child, `could not run (${e.message})`));
    child.once('exit', (code, signal) => this.serviceDied(child, `stopped (${howItEnded(code, signal)})`));
    this.service = child;
    return child;
  }

  private serviceDied(child: ChildProcess, how: string): void {
    if (this.service !== child) return;
    this.service = undefined;
    for (const p of this.pending.values()) p.reject(new CallError(`${p.method}: the engine ${how} before answering; try again`, false));
    this.pending.clear();
    if (this.closing) return;
    child.kill('SIGKILL');
    const restart = this.exits.record() <= MAX_QUICK_RESTARTS;
    if (restart) this.serviceProcess();
    const message = restart
      ? `the engine ${how} and was restarted; numbers on screen are being fetched again`
      : `the engine ${how} again; it will be started by the next request`;
    for (const l of this.engineListeners) l({ type: 'engine', message });
  }

  /** The service process's id (for tests that kill it). */
  get servicePid(): number | undefined {
    return this.service?.pid;
  }

  onEvent(listener: (e: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events about the engine itself, outside any job: its service process died and was restarted. */
  onEngine(listener: (e: EngineEvent) => void): () => void {
    this.engineListeners.add(listener);
    return () => this.engineListeners.delete(listener);
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
    if (v.method === 'startJob') return this.jobs.start(v.payload as JobSpec);
    if (v.method === 'cancelJob') return this.jobs.cancel((v.payload as { jobId: string }).jobId);
    if (v.method === 'listJobs') return this.jobs.active();
    if (this.closing) throw new CallError(`${v.method}: the workbench is shutting down`, false);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method: v.method, resolve, reject });
      this.serviceProcess().send({ id, method: v.method, payload: v.payload } satisfies ServiceCall);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.jobs.close();
    const s = this.service;
    if (!s || s.exitCode !== null || s.signalCode !== null) return;
    // The service closes its store when the channel closes; one that does not exit soon is killed.
    const exited = new Promise<void>((resolve) => s.once('exit', () => resolve()));
    const kill = setTimeout(() => s.kill('SIGKILL'), 2000);
    s.disconnect();
    await exited;
    clearTimeout(kill);
  }
}
