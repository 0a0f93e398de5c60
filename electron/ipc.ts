/**
 * The Electron IPC handler's logic, free of Electron so it can be unit-tested: refuse an untrusted sender,
 * validate the payload with the same zod schemas as the bridge (through WorkbenchHost.call), and answer
 * with an envelope the preload turns back into a value or a thrown Error with one line.
 */
import { CallError } from '../engine/workbench/call-error.js';
import type { WorkbenchHost } from '../engine/workbench/host.js';

export type Envelope = { ok: true; value: unknown } | { ok: false; error: string };

export async function handleCall(
  host: Pick<WorkbenchHost, 'call'>,
  trusted: boolean,
  method: unknown,
  payload: unknown,
): Promise<Envelope> {
  if (!trusted) return { ok: false, error: 'refused: this frame may not call the workbench' };
  try {
    return { ok: true, value: await host.call(method, payload) };
  } catch (err) {
    return { ok: false, error: err instanceof CallError ? err.message : `internal error: ${(err as Error).message}` };
  }
}
