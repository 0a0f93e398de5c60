/**
 * The built renderer's files as both hosts serve them: the browser bridge (electron/bridge.ts, over HTTP) and the
 * Electron main process (electron/main.ts, over the app:// protocol). One path resolution for both: the URL's path
 * is percent-decoded (malformed encodings are a 400, never a throw), resolved under the renderer directory and
 * refused (404) unless it stays inside it, is a regular file and has one of the known types. Free of Electron, so
 * the unit tests run it.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { CSP } from './csp.js';

export const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** The headers every answer carries, whichever host sends it. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
};

/** decodeURIComponent that answers undefined, instead of throwing URIError, on a malformed percent-encoding. */
export function decodePart(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** At most 80 characters of something a request sent, for a one-line error. */
export function shown(s: string): string {
  const t = JSON.stringify(s);
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
}

export type Resolved = { ok: true; file: string; type: string } | { ok: false; status: 400 | 404; error: string };

/** The file under `dir` that the (still percent-encoded) URL path `pathname` names, or why there is none. */
export function resolveRendererFile(dir: string, pathname: string): Resolved {
  const decoded = decodePart(pathname);
  if (decoded === undefined) return { ok: false, status: 400, error: `malformed percent-encoding in path ${shown(pathname)}` };
  const missing = { ok: false, status: 404, error: `no such file ${shown(pathname)}` } as const;
  if (decoded.includes('\0')) return missing;
  const root = resolve(dir);
  const file = decoded === '/' ? resolve(root, 'index.html') : resolve(root, decoded.replace(/^[/\\]+/, ''));
  const rel = relative(root, file);
  if (!rel || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return missing;
  const type = TYPES[extname(file)];
  if (!type || !existsSync(file) || !statSync(file).isFile()) return missing;
  return { ok: true, file, type };
}

/**
 * The Electron protocol handler's logic: answers a request for `<scheme>://<host>/<path>` from `dir`, GET and HEAD
 * only, every answer with the CSP and nosniff; any other host, method or path is refused with a JSON one-liner.
 */
export async function serveRendererRequest(request: { url: string; method: string }, dir: string, host: string): Promise<Response> {
  const refuse = (status: number, error: string) =>
    new Response(JSON.stringify({ error }), {
      status,
      headers: { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    });
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return refuse(400, `not a URL: ${shown(request.url)}`);
  }
  if (url.host !== host) return refuse(404, `no such host ${shown(url.host)}`);
  if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405, 'only GET for files');
  const r = resolveRendererFile(dir, url.pathname);
  if (!r.ok) return refuse(r.status, r.error);
  const body = request.method === 'HEAD' ? null : new Uint8Array(await readFile(r.file));
  return new Response(body, { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': r.type, 'cache-control': 'no-cache' } });
}
