/**
 * Browser mode: the WorkbenchApi over a local HTTP + WebSocket bridge, bound to 127.0.0.1 with a random
 * token made at each launch. It serves the built renderer (dist/renderer/, path resolution in electron/files.ts) and:
 *   POST /api/<method>   JSON payload in, JSON answer out; header `x-shardlab-token: <token>`.
 *                        A bad payload is refused with 400 and {"error": "<one line>"}, before anything runs.
 *   GET  /ws             job events (progress, trace, done) and engine events (a restart), one JSON message each. The token never travels in the
 *                        URL: the client offers it as a subprotocol (electron/ws-auth.ts); a missing or wrong one is
 *                        refused with 401 before the upgrade, a URL with a query with 400.
 * Requests whose Host is not this bridge's (DNS rebinding) or whose Origin is another site are refused (403).
 * A malformed request target or percent-encoding is a 400 with a one-line error, never a 500.
 * Every response (files, 404s, API answers and refusals) carries the renderer's CSP (electron/csp.ts) and nosniff.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { CallError, WorkbenchHost } from '../engine/workbench/host.js';
import { decodePart, resolveRendererFile, SECURITY_HEADERS, shown } from './files.js';
import { EVENTS_PROTOCOL, offeredToken, TOKEN_PROTOCOL_PREFIX } from './ws-auth.js';

export const RENDERER_DIR = fileURLToPath(new URL('../renderer/', import.meta.url));
const MAX_BODY = 1 << 20;
/** The event socket carries the bridge's events; a client has nothing to send but the odd stray message. */
const MAX_WS_MESSAGE = 4096;

export interface Bridge {
  url: string;
  /** The address to open: url with the token in the fragment (never sent to the server, kept by the page). */
  openUrl: string;
  token: string;
  port: number;
  host: WorkbenchHost;
  close(): Promise<void>;
}

export interface BridgeOptions {
  port?: number;
  rendererDir?: string;
  host?: WorkbenchHost;
}

function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extra });
  res.end(text);
}

/** The request target as a URL (path and query; origin-form or absolute-form), or undefined when it is none (`//`). */
function target(raw: string | undefined): URL | undefined {
  const t = raw ?? '/';
  try {
    return t.startsWith('/') ? new URL(`http://bridge${t}`) : new URL(t);
  } catch {
    return undefined;
  }
}

/** Refuses a WebSocket upgrade with an HTTP answer carrying the same headers and one-line JSON error as the rest. */
function refuseUpgrade(socket: Duplex, status: number, reason: string, error: string): void {
  const body = JSON.stringify({ error });
  const headers = {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': `${Buffer.byteLength(body)}`,
  };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${lines.join('')}connection: close\r\n\r\n${body}`);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new CallError(`payload larger than ${MAX_BODY} bytes`, true));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startBridge(o: BridgeOptions = {}): Promise<Bridge> {
  const token = randomBytes(24).toString('hex');
  const host = o.host ?? new WorkbenchHost('browser');
  const dir = o.rendererDir ?? RENDERER_DIR;
  let port = 0;
  const allowedHosts = () => [`127.0.0.1:${port}`, `localhost:${port}`];
  const allowedOrigins = () => allowedHosts().map((h) => `http://${h}`);

  const server = createServer(async (req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    try {
      if (!allowedHosts().includes(req.headers.host ?? '')) return send(res, 403, { error: `host ${req.headers.host} is not this bridge` });
      const url = target(req.url);
      if (!url) return send(res, 400, { error: `malformed request target ${shown(req.url ?? '')}` });
      if (url.pathname.startsWith('/api/')) {
        if (req.method !== 'POST') return send(res, 405, { error: 'use POST with a JSON payload' }, { allow: 'POST' });
        const origin = req.headers.origin;
        if (origin && !allowedOrigins().includes(origin)) return send(res, 403, { error: `origin ${origin} may not call this bridge` });
        if (!sameToken(req.headers['x-shardlab-token'] as string | undefined, token))
          return send(res, 401, { error: 'missing or wrong x-shardlab-token; open the address the bridge printed at launch' });
        const method = decodePart(url.pathname.slice('/api/'.length));
        if (method === undefined) return send(res, 400, { error: `malformed percent-encoding in method name ${shown(url.pathname)}` });
        const text = await readBody(req);
        let payload: unknown;
        try {
          payload = text.trim() === '' ? {} : JSON.parse(text);
        } catch (e) {
          return send(res, 400, { error: `${method}: payload is not valid JSON (${(e as Error).message.split('\n')[0]})` });
        }
        const value = await host.call(method, payload);
        return send(res, 200, value === undefined ? null : value);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'only GET for files' }, { allow: 'GET' });
      const found = resolveRendererFile(dir, url.pathname);
      if (!found.ok) return send(res, found.status, { error: found.error });
      res.writeHead(200, { 'content-type': found.type, 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : readFileSync(found.file));
    } catch (e) {
      if (e instanceof CallError) return send(res, e.user ? 400 : 500, { error: e.message });
      send(res, 500, { error: `internal error: ${(e as Error).message.split('\n')[0]}` });
    }
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_WS_MESSAGE,
    // Reached only once the token was checked (below); the protocol selected never carries the token.
    handleProtocols: (offered) => (offered.has(EVENTS_PROTOCOL) ? EVENTS_PROTOCOL : false),
  });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = target(req.url);
    const origin = req.headers.origin;
    if (!allowedHosts().includes(req.headers.host ?? ''))
      return refuseUpgrade(socket, 403, 'Forbidden', `host ${req.headers.host} is not this bridge`);
    if (origin && !allowedOrigins().includes(origin)) return refuseUpgrade(socket, 403, 'Forbidden', `origin ${origin} may not connect`);
    if (!url || url.pathname !== '/ws') return refuseUpgrade(socket, 404, 'Not Found', 'the only WebSocket is /ws');
    if (url.search !== '')
      return refuseUpgrade(socket, 400, 'Bad Request', '/ws takes no query: the token goes in Sec-WebSocket-Protocol, never in the URL');
    const offered = offeredToken(req.headers['sec-websocket-protocol']);
    if (!offered.events || !sameToken(offered.token, token))
      return refuseUpgrade(
        socket,
        401,
        'Unauthorized',
        `missing or wrong token: offer the subprotocols ${EVENTS_PROTOCOL} and ${TOKEN_PROTOCOL_PREFIX}<token>; open the address the bridge printed at launch`,
      );
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => ws.terminate());
      ws.on('message', () =>
        ws.send(JSON.stringify({ error: 'this socket only carries job events; call the API over POST /api/<method>' })),
      );
    });
  });
  const broadcast = (e: unknown) => {
    const text = JSON.stringify(e);
    for (const c of clients) c.send(text);
  };
  const unsubscribe = host.onEvent(broadcast);
  // Engine events (a restarted service) travel on the same socket; the client tells them apart by type.
  const unsubscribeEngine = host.onEngine?.(broadcast);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    openUrl: `${url}#token=${token}`,
    token,
    port,
    host,
    close: async () => {
      unsubscribe();
      unsubscribeEngine?.();
      for (const c of clients) c.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      if (!o.host) await host.close();
    },
  };
}
