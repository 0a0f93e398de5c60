/**
 * The engine's side of a host: a worker_threads worker, so the host's thread (Electron's main process,
 * the bridge's event loop) never blocks on engine work.
 *   mode 'service': answers calls { id, method, payload } one after another with { id, ok, value | error };
 *   mode 'job':     runs one long job, posting its events; a { cancel: true } message asks it to stop.
 * Payloads arrive validated by the host (validate.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../core/errors.js';
import type { AppInfo, JobEvent, JobSpec, MethodName } from './api.js';
import { JobCancelled, WorkbenchService } from './service.js';

export type WorkerData = { mode: 'service'; host: AppInfo['host'] } | { mode: 'job'; host: AppInfo['host']; jobId: string; spec: JobSpec };
export type ServiceReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string; user: boolean };
export type JobMessage = { event: JobEvent };

/** A user's error says what to do; anything else is a bug, reported with its first line. */
export function errorText(e: unknown): { error: string; user: boolean } {
  if (e instanceof UserError) return { error: e.message, user: true };
  const err = e as Error;
  return { error: `internal error: ${err?.message ?? String(e)}`, user: false };
}

const data = workerData as WorkerData;
const port = parentPort!;
const service = new WorkbenchService(data.host);

if (data.mode === 'service') {
  port.on('message', async (m: { id: number; method: MethodName; payload: unknown }) => {
    try {
      const f = (service as unknown as Record<string, (p: unknown) => Promise<unknown>>)[m.method];
      const value = await f.call(service, m.payload);
      port.postMessage({ id: m.id, ok: true, value } satisfies ServiceReply);
    } catch (e) {
      port.postMessage({ id: m.id, ok: false, ...errorText(e) } satisfies ServiceReply);
    }
  });
} else {
  const { jobId, spec } = data;
  const controller = new AbortController();
  port.on('message', (m: { cancel?: boolean }) => {
    if (m.cancel) controller.abort();
  });
  const emit = (event: JobEvent) => port.postMessage({ event } satisfies JobMessage);
  emit({ jobId, kind: spec.kind, type: 'started' });
  try {
    const result = await service.runJob(spec, { jobId, emit, signal: controller.signal });
    emit({ jobId, kind: spec.kind, type: 'done', result });
  } catch (e) {
    if (controller.signal.aborted || e instanceof JobCancelled) emit({ jobId, kind: spec.kind, type: 'cancelled' });
    else emit({ jobId, kind: spec.kind, type: 'error', message: errorText(e).error });
  } finally {
    await service.close();
    port.close();
  }
}
