/**
 * The engine's side of a host: a plain Node child process (forked by jobs.ts), so the host's process
 * (Electron's main process, the bridge) never blocks on engine work and never dies with it. Killing a
 * process is safe whatever native code (onnxruntime, SQLite) runs in it; terminating a worker thread
 * there is not (N-API throws during the teardown and the whole process aborts).
 * The first message from the host says what this process is (WorkerData); then:
 *   mode 'service': answers calls { id, method, payload } with { id, ok, value | error }, concurrently;
 *   mode 'job':     runs one long job, sending its events, then exits; { cancel: true } asks it to stop.
 * Payloads arrive validated by the host (validate.ts). When the host goes away (the IPC channel closes),
 * the process exits with it.
 */
import { UserError } from '../core/errors.js';
import type { AppInfo, JobEvent, JobSpec, MethodName } from './api.js';
import { JobCancelled, WorkbenchService } from './service.js';

export type WorkerData = { mode: 'service'; host: AppInfo['host'] } | { mode: 'job'; host: AppInfo['host']; jobId: string; spec: JobSpec };
export type ServiceCall = { id: number; method: MethodName; payload: unknown };
export type ServiceReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string; user: boolean };
export type JobMessage = { event: JobEvent };

/** A user's error says what to do; anything else is a bug, reported with its first line. */
export function errorText(e: unknown): { error: string; user: boolean } {
  if (e instanceof UserError) return { error: e.message, user: true };
  const err = e as Error;
  return { error: `internal error: ${(err?.message ?? String(e)).split('\n')[0]}`, user: false };
}

/** Sends a message to the host; resolves once it is written (or at once when the host is gone). */
function send(m: ServiceReply | JobMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(m, undefined, {}, () => resolve());
  });
}

function serve(service: WorkbenchService): void {
  process.on('message', async (m: ServiceCall) => {
    try {
      const f = (service as unknown as Record<string, (p: unknown) => Promise<unknown>>)[m.method];
      await send({ id: m.id, ok: true, value: await f.call(service, m.payload) });
    } catch (e) {
      await send({ id: m.id, ok: false, ...errorText(e) });
    }
  });
}

async function runJob(service: WorkbenchService, jobId: string, spec: JobSpec): Promise<void> {
  const controller = new AbortController();
  process.on('message', (m: { cancel?: boolean }) => {
    if (m.cancel) controller.abort();
  });
  const emit = (event: JobEvent) => send({ event });
  void emit({ jobId, kind: spec.kind, type: 'started' });
  let last: JobEvent;
  try {
    const result = await service.runJob(spec, { jobId, emit: (e) => void emit(e), signal: controller.signal });
    last = { jobId, kind: spec.kind, type: 'done', result };
  } catch (e) {
    if (controller.signal.aborted || e instanceof JobCancelled) last = { jobId, kind: spec.kind, type: 'cancelled' };
    else last = { jobId, kind: spec.kind, type: 'error', message: errorText(e).error };
  }
  await service.close();
  await emit(last);
  if (process.connected) process.disconnect();
}

if (!process.send) throw new Error('worker.js runs as a child process forked by the workbench host (engine/workbench/jobs.ts)');
process.once('message', (data: WorkerData) => {
  const service = new WorkbenchService(data.host);
  process.on('disconnect', () => void service.close().finally(() => process.exit(0)));
  if (data.mode === 'service') serve(service);
  else void runJob(service, data.jobId, data.spec);
});
