/**
 * Browser mode: the WorkbenchApi over a local HTTP + WebSocket bridge, bound to 127.0.0.1 with a random
 * token made at each launch. It serves the built renderer (dist/renderer/) and:
 *   POST /api/<method>   JSON payload in, JSON answer out; header `x-shardlab-token: <token>`.
 *                        A bad payload is refused with 400 and {"error": "<one line>"}, before anything runs.
 *   GET  /ws?token=...   job events (progress, trace, done), one JSON message each.
 * Requests whose Host is not this bridge's (DNS rebinding) or whose Origin is another site are refused.
 * Every response (files, 404s, API answers and refusals) carries the renderer's CSP (electron/csp.ts) and nosniff.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { CallError, WorkbenchHost } from '../engine/workbench/host.js';
import { CSP } from './csp.js';

export const RENDERER_DIR = fileURLToPath(new URL('../renderer/', import.meta.url));
const MAX_BODY = 1 << 20;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

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
    res.setHeader('content-security-policy', CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    try {
      if (!allowedHosts().includes(req.headers.host ?? '')) return send(res, 403, { error: `host ${req.headers.host} is not this bridge` });
      const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
      if (url.pathname.startsWith('/api/')) {
        if (req.method !== 'POST') return send(res, 405, { error: 'use POST with a JSON payload' }, { allow: 'POST' });
        const origin = req.headers.origin;
        if (origin && !allowedOrigins().includes(origin)) return send(res, 403, { error: `origin ${origin} may not call this bridge` });
        if (!sameToken(req.headers['x-shardlab-token'] as string | undefined, token))
          return send(res, 401, { error: 'missing or wrong x-shardlab-token; open the address the bridge printed at launch' });
        const method = decodeURIComponent(url.pathname.slice('/api/'.length));
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
      const rel = url.pathname === '/' ? 'index.html' : normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
      const file = join(dir, rel);
      if (rel.startsWith('..') || !file.startsWith(dir) || !existsSync(file) || !TYPES[extname(file)])
        return send(res, 404, { error: `no such file ${url.pathname}` });
      res.writeHead(200, { 'content-type': TYPES[extname(file)], 'cache-control': 'no-cache' });
      res.end(readFileSync(file));
    } catch (e) {
      if (e instanceof CallError) return send(res, e.user ? 400 : 500, { error: e.message });
      send(res, 500, { error: `internal error: ${(e as Error).message}` });
    }
  });

  const wss = new WebSocketServer({ noServer: true });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = req.headers.origin;
    const ok =
      url.pathname === '/ws' &&
      allowedHosts().includes(req.headers.host ?? '') &&
      (!origin || allowedOrigins().includes(origin)) &&
      sameToken(url.searchParams.get('token') ?? undefined, token);
    if (!ok) {
      socket.write(`HTTP/1.1 401 Unauthorized\r\nContent-Security-Policy: ${CSP}\r\nConnection: close\r\n\r\n`);
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('message', () =>
        ws.send(JSON.stringify({ error: 'this socket only carries job events; call the API over POST /api/<method>' })),
      );
    });
  });
  const unsubscribe = host.onEvent((e) => {
    const text = JSON.stringify(e);
    for (const c of clients) c.send(text);
  });

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
      for (const c of clients) c.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      if (!o.host) await host.close();
    },
  };
}
