/**
 * The renderer's WorkbenchClient: window.shardlab in Electron (the preload's contextBridge object),
 * otherwise the browser bridge over fetch (calls) and a WebSocket (job events), with the launch token
 * taken from the address's fragment and kept for this tab. The token travels in headers only, never in a URL:
 * `x-shardlab-token` on calls, the offered subprotocols on the WebSocket (electron/ws-auth.ts).
 */
import type { JobEvent, MethodName, WorkbenchApi, WorkbenchClient } from '../../engine/workbench/api.js';
import { wsProtocols } from '../../electron/ws-auth.js';

interface ElectronBridge {
  host: 'electron';
  call(method: string, payload: unknown): Promise<unknown>;
  onEvent(listener: (e: JobEvent) => void): () => void;
  onMenu(listener: (command: string) => void): () => void;
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

function browserClient(): WorkbenchClient {
  const token = browserToken();
  if (!token) throw new NoTokenError('This page needs the address with its token: open the one `npm start` printed.');
  const listeners = new Set<(e: JobEvent) => void>();
  let socket: WebSocket | undefined;
  const connect = () => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, wsProtocols(token));
    ws.onmessage = (m) => {
      const e = JSON.parse(String(m.data)) as JobEvent;
      for (const l of listeners) l(e);
    };
    ws.onclose = () => {
      socket = undefined;
      setTimeout(connect, 1000);
    };
    socket = ws;
  };
  connect();
  void socket;
  return {
    host: 'browser',
    async call(method, req) {
      const r = await fetch(`/api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-shardlab-token': token },
        body: JSON.stringify(req ?? {}),
      });
      const body = (await r.json()) as unknown;
      if (!r.ok) throw new Error((body as { error?: string })?.error ?? `HTTP ${r.status}`);
      return body as never;
    },
    onEvent(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

function electronClient(b: ElectronBridge): WorkbenchClient {
  return {
    host: 'electron',
    call: (method, req) => b.call(method, req ?? {}) as never,
    onEvent: (l) => b.onEvent(l),
    onMenu: (l) => b.onMenu(l),
  };
}

export function makeClient(): WorkbenchClient {
  return window.shardlab ? electronClient(window.shardlab) : browserClient();
}

export type Api = WorkbenchClient;
export type Req<M extends MethodName> = Parameters<WorkbenchApi[M]>[0];
