/**
 * The engine as a process of its own, run by plain Node (never inside Electron): a WorkbenchHost
 * answering calls that arrive over the Node IPC channel of the process that forked it (the Electron
 * main process, see electron/engine-client.ts). Native modules (better-sqlite3, onnxruntime-node) are
 * then loaded by the Node they were built for, whatever front end runs.
 *   in:  { id, method, payload }              a WorkbenchApi call, validated by the host
 *   out: { id, ok: true, value } | { id, ok: false, error, user }   its answer
 *        { event }                            a job event, or an EngineEvent (its service restarted)
 * Its lifetime follows its parent: when the IPC channel closes (the parent exited or let go), it stops.
 */
import type { AppInfo, EngineEvent, JobEvent } from './api.js';
import { CallError } from './call-error.js';
import { WorkbenchHost } from './host.js';

export type EngineRequest = { id: number; method: unknown; payload: unknown };
export type EngineReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string; user: boolean };
export type EngineMessage = EngineReply | { event: JobEvent | EngineEvent } | { ready: { node: string; pid: number } };

function main(): void {
  const send = process.send?.bind(process);
  if (!send) {
    console.error('engine-process: run it through child_process.fork (it talks over the IPC channel)');
    process.exit(2);
  }
  const kind = (process.argv[2] ?? 'electron') as AppInfo['host'];
  const host = new WorkbenchHost(kind);
  host.onEvent((event) => send({ event } satisfies EngineMessage));
  host.onEngine((event) => send({ event } satisfies EngineMessage));
  process.on('message', (m: EngineRequest) => {
    host.call(m.method, m.payload).then(
      (value) => send({ id: m.id, ok: true, value } satisfies EngineMessage),
      (e: unknown) => {
        const user = e instanceof CallError && e.user;
        const error = e instanceof CallError ? e.message : `internal error: ${(e as Error)?.message ?? String(e)}`;
        send({ id: m.id, ok: false, error, user } satisfies EngineMessage);
      },
    );
  });
  process.on('disconnect', () => void host.close().finally(() => process.exit(0)));
  send({ ready: { node: process.version, pid: process.pid } } satisfies EngineMessage);
}

main();
