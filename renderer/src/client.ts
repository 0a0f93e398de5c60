/**
 * The renderer's WorkbenchClient: window.shardlab in Electron (the preload's contextBridge object),
 * otherwise the browser bridge over fetch (calls) and a WebSocket (job events), with the launch token
 * taken from the address's fragment and kept for this tab. The token travels in headers only, never in a URL:
 * `x-shardlab-token` on calls, the offered subprotocols on the WebSocket (electron/ws-auth.ts).
 * Both hosts send engine events (a restarted engine) on the job-event channel; they go to onStatus. The
 * browser client also says when its WebSocket drops and comes back (it reconnects on its own), and turns a
 * call the server never answered into one line that says so.
 */
import type { EngineEvent, JobEvent, LinkEvent, MethodName, WorkbenchApi, WorkbenchClient } from '../../engine/workbench/api.js';
import { wsProtocols } from '../../electron/ws-auth.js';

interface ElectronBridge {
  host: 'electron';
  call(method: string, payload: unknown): Promise<unknown>;
  onEvent(listener: (e: JobEvent | EngineEvent) => void): () => void;
  onMenu(listener: (command: string) => void): () => void;
  /** Absent in a preload older than the directory picker. */
  chooseDirectory?(): Promise<string | null>;
}

declare global {
  interface Window {
    shardlab?: ElectronBridge;
  }
}

function browserToken(): string | null {
  const m = /(?:^#|&)token=([0-9a-f]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem('shardlab-token', m[1]);
    history.replaceState(null, '', location.pathname + location.search);
    return m[1];
  }
  return sessionStorage.getItem('shardlab-token');
}

export class NoTokenError extends Error {}

type Status = EngineEvent | LinkEvent;

/** Listeners of job events and of status events, fed from one stream of host messages. */
function channels() {
  const jobs = new Set<(e: JobEvent) => void>();
  const status = new Set<(e: Status) => void>();
  const add = <T>(set: Set<T>, l: T) => (set.add(l), () => void set.delete(l));
  return {
    dispatch(e: JobEvent | Status) {
      if (e.type === 'engine' || e.type === 'link') for (const l of status) l(e);
      else for (const l of jobs) l(e);
    },
    onEvent: (l: (e: JobEvent) => void) => add(jobs, l),
    onStatus: (l: (e: Status) => void) => add(status, l),
  };
}

/** Reconnect delays: soon after a drop, then less often while the server stays away. */
const RECONNECT_MS = [1000, 2000, 5000];

function browserClient(): WorkbenchClient {
  const token = browserToken();
  if (!token) throw new NoTokenError('This page needs the address with its token: open the one `npm start` printed.');
  const ch = channels();
  let opened = false;
  let down = false;
  let failures = 0;
  const connect = () => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, wsProtocols(token));
    ws.onopen = () => {
      failures = 0;
      if (down) ch.dispatch({ type: 'link', up: true, message: 'reconnected to the workbench server' });
      opened = true;
      down = false;
    };
    ws.onmessage = (m) => ch.dispatch(JSON.parse(String(m.data)) as JobEvent | Status);
    ws.onclose = () => {
      if (opened && !down) {
        down = true;
        ch.dispatch({ type: 'link', up: false, message: 'the connection to the workbench server dropped; reconnecting…' });
      } else if (down && ++failures === RECONNECT_MS.length)
        ch.dispatch({
          type: 'link',
          up: false,
          message: 'cannot reach the workbench server; if it stopped, run npm start again and open the address it prints',
        });
      setTimeout(connect, RECONNECT_MS[Math.min(failures, RECONNECT_MS.length - 1)]);
    };
  };
  connect();
  return {
    host: 'browser',
    async call(method, req) {
      let r: Response;
      try {
        r = await fetch(`/api/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-shardlab-token': token },
          body: JSON.stringify(req ?? {}),
        });
      } catch {
        throw new Error(`${method}: the workbench server is not answering (stopped, or restarting); if it stopped, run npm start again`);
      }
      const body = (await r.json().catch(() => null)) as unknown;
      if (!r.ok) throw new Error((body as { error?: string } | null)?.error ?? `${method}: the server answered HTTP ${r.status}`);
      return body as never;
    },
    onEvent: ch.onEvent,
    onStatus: ch.onStatus,
  };
}

function electronClient(b: ElectronBridge): WorkbenchClient {
  const ch = channels();
  b.onEvent(ch.dispatch);
  return {
    host: 'electron',
    call: (method, req) => b.call(method, req ?? {}) as never,
    onEvent: ch.onEvent,
    onStatus: ch.onStatus,
    onMenu: (l) => b.onMenu(l),
    ...(b.chooseDirectory && { chooseDirectory: () => b.chooseDirectory!() }),
  };
}

export function makeClient(): WorkbenchClient {
  return window.shardlab ? electronClient(window.shardlab) : browserClient();
}

export type Api = WorkbenchClient;
export type Req<M extends MethodName> = Parameters<WorkbenchApi[M]>[0];
