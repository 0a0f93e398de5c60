/**
 * The workbench's engine side without a UI: payload validation of every method (what both the bridge and
 * the Electron IPC handler run), the service over the real engine, the worker host with jobs and cancel,
 * the IPC handler's sender check, the bridge's token, host, payload and request-target checks, its WebSocket's
 * authentication (a subprotocol, never the URL) as the renderer's client uses it, and the Electron side's
 * Electron-free parts: the app:// file handler and the navigation and external-link rules.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { WebSocket as WsClient } from 'ws';
import type { WorkbenchClient } from '../engine/workbench/api.js';
import { ROOT, tempDir } from './helpers.js';

const HOME = tempDir('shardlab-workbench-');
process.env.SHARDLAB_HOME = HOME;

const { METHODS } = await import('../engine/workbench/api.js');
const { validateCall, BadRequest } = await import('../engine/workbench/validate.js');
const { WorkbenchService } = await import('../engine/workbench/service.js');
const { WorkbenchHost, CallError } = await import('../engine/workbench/host.js');
const { handleCall } = await import('../electron/ipc.js');
const { startBridge } = await import('../electron/bridge.js');
const { CSP } = await import('../electron/csp.js');
const { resolveRendererFile, serveRendererRequest } = await import('../electron/files.js');
const { APP_INDEX_URL, EXTERNAL_HOSTS, externalLinkAllowed, isAppPage } = await import('../electron/navigation.js');
const { EVENTS_PROTOCOL, TOKEN_PROTOCOL_PREFIX, wsProtocols } = await import('../electron/ws-auth.js');
const { getSocProfile } = await import('../engine/soc/load.js');

const Q = { soc: 'odroid-n2plus', model: 'bert-spam', targetMs: 120, bufferKb: 1536 };

/** One bad payload per method, and the start of the line it must be refused with. */
const BAD: Record<string, [unknown, RegExp]> = {
  info: [{ x: 1 }, /^info: payload: unknown field "x"$/],
  listSocs: [[], /^listSocs: payload: expected object$/],
  saveSoc: [{ profile: 'odroid' }, /^saveSoc: profile: expected record$/],
  listModels: [7, /^listModels: payload: expected object$/],
  planners: [{ model: 'a/../../b' }, /^planners: model: must be a model id/],
  plan: [{ ...Q, planner: 'sti', targetMs: '100' }, /^plan: targetMs: expected number$/],
  planTrace: [{ query: { ...Q } }, /^planTrace: query\.planner: expected string$/],
  planAll: [{ ...Q, planner: 'sti' }, /^planAll: payload: unknown field "planner"$/],
  targetRange: [{ soc: 'odroid-n2plus', model: 'bert-spam', bufferKb: -1 }, /^targetRange: bufferKb: must be at least 0$/],
  importance: [{ model: 'bert-spam', evalLimit: 0 }, /^importance: evalLimit: must be more than 0$/],
  startJob: [{ kind: 'live', query: { ...Q, planner: 'sti' }, slowdown: 0.5 }, /^startJob: slowdown: must be at least 1$/],
  cancelJob: [{ jobId: 3 }, /^cancelJob: jobId: expected string$/],
  listJobs: [{ all: true }, /^listJobs: payload: unknown field "all"$/],
  listSweeps: [{ all: true }, /^listSweeps: payload: unknown field "all"$/],
  getSweep: [{ id: -1 }, /^getSweep: id: must be more than 0$/],
  deleteSweep: [{}, /^deleteSweep: id: expected number$/],
  exportSweep: [{ id: 1, format: 'xlsx' }, /^exportSweep: format: must be one of/],
  rwkvWhatIf: [{ soc: 'rpi5-nvme', model: 'rwkv5-en', memoryMb: 8 }, /^rwkvWhatIf: techniques: expected object$/],
  rwkvGrid: [{ soc: 'rpi5-nvme' }, /^rwkvGrid: model: expected string$/],
  recordRwkvPlan: [{ soc: 'rpi5-nvme', model: 'rwkv5-en', memoryMb: '8', techniques: {} }, /^recordRwkvPlan: memoryMb: expected number/],
  listRwkvRuns: [{ model: 'rwkv5-en' }, /^listRwkvRuns: payload: unknown field "model"$/],
  checkData: [{ path: '' }, /^checkData: path: /],
  importModel: [{ dir: 7 }, /^importModel: dir: expected string$/],
};

describe('payload validation (shared by the bridge and the Electron IPC handler)', () => {
  test('every method has a bad payload here, refused with one line naming method and field', () => {
    assert.deepEqual(Object.keys(BAD).sort(), Object.keys(METHODS).sort());
    for (const [method, [payload, want]] of Object.entries(BAD)) {
      assert.throws(
        () => validateCall(method, payload),
        (e: Error) => e instanceof BadRequest && want.test(e.message) && !e.message.includes('\n'),
        method,
      );
    }
  });

  test('unknown methods and prototype names are refused; good payloads pass', () => {
    for (const m of ['constructor', '__proto__', 'toString', 'runJob', 42]) assert.throws(() => validateCall(m, {}), /unknown method/);
    assert.deepEqual(validateCall('plan', { ...Q, planner: 'sti' }).payload, { ...Q, planner: 'sti' });
    assert.deepEqual(validateCall('listSocs', undefined).payload, {});
  });
});

describe('WorkbenchService over the engine', () => {
  const s = new WorkbenchService('test');
  after(() => s.close());

  test('odroid-n2plus: stdpl-32 stalls, sti-uniform at 1536 KB does not; sti without importance falls back', async () => {
    const fp32 = await s.plan({ ...Q, planner: 'stdpl-32' });
    assert.ok(fp32.stallMs > 10, `stdpl-32 stall ${fp32.stallMs}`);
    assert.ok(fp32.events.some((e) => e.stage === 'stall'));
    assert.equal(fp32.importance, 'unused');
    const uni = await s.plan({ ...Q, planner: 'sti-uniform' });
    assert.equal(uni.stallMs, 0);
    assert.ok(uni.makespanMs <= 120);
    assert.ok(uni.persistentBytes > 0 && uni.persistentBytes <= 1536 * 1024);
    const sti = await s.plan({ ...Q, planner: 'sti' });
    assert.equal(sti.importance, 'missing');
    assert.equal(sti.planner, 'sti-uniform');
    assert.equal(sti.accuracy, null);
    const lower = await s.plan({ ...Q, planner: 'sti-uniform', targetMs: 40 });
    assert.ok(lower.layers * lower.slices < uni.layers * uni.slices, 'a lower target plans a smaller submodel');
  });

  test('an accuracy job scores the plan it is sent, not the query planned again; a plan that does not fit is refused', async () => {
    const q = { ...Q, planner: 'sti-uniform', evalLimit: 16 };
    const v = await s.plan(q);
    assert.equal(v.meetsTarget, true);
    const ctx = { jobId: 'job-1', emit: () => {}, signal: new AbortController().signal };
    const first = v.plan.units[0];
    const edited = {
      ...v.plan,
      units: [{ ...first, bits: first.bits === 2 ? 3 : 2, codec: 'sti-dict' as const }, ...v.plan.units.slice(1)],
    };
    const scored = (await s.runJob({ kind: 'accuracy', query: q, plan: edited }, ctx)) as { configHash: string; examples: number };
    assert.notEqual(scored.configHash, v.configHash);
    assert.equal(scored.examples, 16);
    const same = (await s.runJob({ kind: 'accuracy', query: q, plan: v.plan }, ctx)) as { configHash: string };
    assert.equal(same.configHash, v.configHash);
    assert.equal((await s.plan(q)).accuracy?.examples, 16, 'the plan view now shows the stored accuracy');
    await assert.rejects(
      s.runJob({ kind: 'accuracy', query: q, plan: { ...v.plan, layers: 99 } }, ctx),
      /^UserError: plan sti-uniform: 99 x/,
    );
  });

  test('saveSoc writes a new user profile and refuses a taken id, changing nothing', async () => {
    const base = getSocProfile('odroid-n2plus');
    const copy = { ...structuredClone(base), id: 'odroid-slowio', name: 'slow IO' };
    copy.storage.readMBps = { value: 50, kind: 'unverified', source: base.sources[0].id };
    const saved = await s.saveSoc({ profile: copy });
    assert.equal(saved.bundled, false);
    const file = join(HOME, 'socs', 'odroid-slowio.json');
    const text = readFileSync(file, 'utf8');
    await assert.rejects(s.saveSoc({ profile: { ...copy, name: 'other' } }), /exists already; choose a new id/);
    await assert.rejects(s.saveSoc({ profile: { ...copy, id: 'odroid-n2plus' } }), /exists already/);
    await assert.rejects(s.saveSoc({ profile: { ...copy, id: 'bad-one', storage: {} } as never }), /bad-one\.json: storage\.kind: missing/);
    assert.equal(readFileSync(file, 'utf8'), text);
    assert.deepEqual(readdirSync(join(HOME, 'socs')), ['odroid-slowio.json']);
    const slow = await s.plan({ ...Q, soc: 'odroid-slowio', planner: 'stdpl-32' });
    const fast = await s.plan({ ...Q, planner: 'stdpl-32' });
    assert.ok(slow.makespanMs > fast.makespanMs, 'the edited bandwidth reaches the cost model');
  });

  test('unknown sweeps are a user error', async () => {
    await assert.rejects(s.getSweep({ id: 12345 }), /no sweep #12345/);
    await assert.rejects(s.deleteSweep({ id: 12345 }), /no sweep #12345/);
  });
});

describe('WorkbenchHost: engine in workers, jobs with progress and cancel', () => {
  const host = new WorkbenchHost('test');
  after(() => host.close());

  test('refuses bad payloads before any worker runs; answers good ones from the worker', async () => {
    await assert.rejects(
      host.call('plan', { ...Q }),
      (e: Error) => e instanceof CallError && e.user && /^plan: planner: expected string$/.test(e.message),
    );
    const p = (await host.call('plan', { ...Q, planner: 'stdpl-32' })) as { stallMs: number };
    assert.ok(p.stallMs > 0);
    await assert.rejects(host.call('plan', { ...Q, soc: 'nope', planner: 'sti' }), /plan: unknown SoC profile "nope"/);
  });

  test('a live job streams trace events as they happen, then its result', async () => {
    const events: { type: string; events?: unknown[]; result?: unknown }[] = [];
    const done = new Promise<void>((resolve) =>
      host.onEvent((e) => {
        events.push(e);
        if (e.type === 'done' || e.type === 'error') resolve();
      }),
    );
    const { jobId } = (await host.call('startJob', { kind: 'live', query: { ...Q, planner: 'stdpl-32' }, slowdown: 5 })) as {
      jobId: string;
    };
    assert.match(jobId, /^job-\d+$/);
    await done;
    const last = events.at(-1)!;
    assert.equal(last.type, 'done', JSON.stringify(last));
    const traces = events.filter((e) => e.type === 'trace');
    assert.ok(traces.length > 1, `events arrive in ${traces.length} batches while the run goes on`);
    const result = last.result as { stallMs: number; makespanMs: number; predictedMakespanMs: number };
    assert.ok(result.stallMs > 0, 'stdpl-32 stalls in the real run too');
    assert.ok(result.makespanMs >= result.predictedMakespanMs * 0.99);
  });

  test('cancelling an importance profile stops it', async () => {
    const seen: string[] = [];
    let jobId = '';
    const finished = new Promise<string>((resolve) =>
      host.onEvent((e) => {
        if (e.jobId !== jobId) return;
        seen.push(e.type);
        if (e.type === 'progress' && e.done >= 1) void host.call('cancelJob', { jobId });
        if (e.type === 'done' || e.type === 'cancelled' || e.type === 'error') resolve(e.type);
      }),
    );
    jobId = ((await host.call('startJob', { kind: 'importance', model: 'bert-spam', evalLimit: 10 })) as { jobId: string }).jobId;
    assert.equal(await finished, 'cancelled', seen.join(','));
    assert.deepEqual(await host.call('cancelJob', { jobId }), { cancelled: false });
  });
});

describe('Electron IPC handler', () => {
  test('refuses untrusted senders and bad payloads with one line, through the same validation', async () => {
    const calls: unknown[] = [];
    const host = { call: async (m: unknown, p: unknown) => (calls.push([m, p]), validateCall(m, p), 'ok') };
    assert.deepEqual(await handleCall(host, false, 'listSocs', {}), { ok: false, error: 'refused: this frame may not call the workbench' });
    assert.equal(calls.length, 0, 'an untrusted frame reaches nothing');
    const real = new WorkbenchHost('test');
    try {
      for (const [method, [payload, want]] of Object.entries(BAD)) {
        const r = await handleCall(real, true, method, payload);
        assert.equal(r.ok, false, method);
        assert.match((r as { error: string }).error, want);
      }
    } finally {
      await real.close();
    }
    assert.deepEqual(await handleCall(host, true, 'listSocs', {}), { ok: true, value: 'ok' });
  });
});

describe('browser bridge', () => {
  let bridge: Awaited<ReturnType<typeof startBridge>>;
  before(async () => {
    bridge = await startBridge();
  });
  after(() => bridge.close());
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${bridge.url}${path}`, { method: 'POST', headers: { 'x-shardlab-token': bridge.token, ...headers }, body });

  test('listens on 127.0.0.1 only, with a fresh token, and serves the renderer with a CSP', async () => {
    assert.match(bridge.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(bridge.token, /^[0-9a-f]{48}$/);
    const dir = tempDir('shardlab-renderer-');
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>shardlab</title>');
    writeFileSync(join(dir, 'app.css'), 'body {}');
    const other = await startBridge({ host: bridge.host, rendererDir: dir });
    assert.notEqual(other.token, bridge.token);
    try {
      const index = await fetch(other.url);
      const asset = await fetch(`${other.url}app.css`);
      assert.equal(index.status, 200);
      assert.equal(asset.status, 200);
      assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
      const built = await fetch(bridge.url);
      if (existsSync(join(process.cwd(), 'dist/renderer/index.html'))) assert.equal(built.status, 200);
      const outside = await fetch(`${bridge.url}../../package.json`);
      assert.equal(outside.status, 404);
      // Every response carries the CSP: files, 404s, API answers and refusals.
      const api = await post('api/listSocs', '{}');
      const refused = await post('api/listSocs', '{}', { 'x-shardlab-token': '' });
      assert.equal(api.status, 200);
      assert.equal(refused.status, 401);
      for (const r of [index, asset, built, outside, api, refused]) {
        assert.equal(r.headers.get('content-security-policy'), CSP, `${r.url} ${r.status}`);
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff', `${r.url} ${r.status}`);
      }
      assert.match(CSP, /^default-src 'none'; script-src 'self';.*frame-ancestors 'none'/);
    } finally {
      await other.close();
    }
  });

  test('refuses a missing token, a foreign Origin, bad JSON and bad payloads', async () => {
    assert.equal((await post('api/listSocs', '{}', { 'x-shardlab-token': '' })).status, 401);
    assert.equal((await post('api/listSocs', '{}', { origin: 'http://evil.example' })).status, 403);
    const bad = await post('api/plan', '{"soc":');
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /^plan: payload is not valid JSON/);
    const r = await post('api/plan', JSON.stringify({ ...Q, planner: 'sti', bufferKb: -1 }));
    assert.equal(r.status, 400);
    assert.deepEqual(await r.json(), { error: 'plan: bufferKb: must be at least 0' });
    const ok = await post('api/plan', JSON.stringify({ ...Q, planner: 'stdpl-32' }));
    assert.equal(ok.status, 200);
  });
});

/** A renderer directory with an index and an asset, and files next to it that no request may reach. */
function rendererFixture(): string {
  const base = tempDir('shardlab-files-');
  const dir = join(base, 'renderer');
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>shardlab</title>');
  writeFileSync(join(dir, 'app.js'), 'export {};');
  writeFileSync(join(dir, 'notes.txt'), 'a type no host serves');
  mkdirSync(join(dir, 'sub.js'));
  writeFileSync(join(base, 'secret.js'), 'outside');
  writeFileSync(join(base, 'renderer-evil.js'), 'outside, sharing the directory name as a prefix');
  return dir;
}

/** Paths (as a URL carries them, still percent-encoded) that name nothing servable: each a 404. */
const OUTSIDE = [
  '/../secret.js',
  '/..%2fsecret.js',
  '/%2e%2e/secret.js',
  '/%2e%2e%2fsecret.js',
  '/..%5csecret.js',
  '/../renderer-evil.js',
  '/..%2frenderer-evil.js',
  '//etc/passwd',
  '/%2fetc%2fpasswd',
  '/notes.txt',
  '/sub.js',
  '/app.js%00.html',
  '/missing.js',
];
/** Malformed percent-encodings: each a 400 with one line, never a throw or a 500. */
const MALFORMED = ['/%', '/%E0%A4%A', '/%zz', '/a%', '/%C3%28', '/%ED%A0%80', '/%C0%AF', '/%FF'];

describe('renderer files, as both hosts serve them (electron/files.ts)', () => {
  const dir = rendererFixture();

  test('resolves the index and assets inside the directory; refuses traversal, unknown types, directories and bad encodings', () => {
    assert.deepEqual(resolveRendererFile(dir, '/'), { ok: true, file: join(dir, 'index.html'), type: 'text/html; charset=utf-8' });
    assert.deepEqual(resolveRendererFile(dir, '/app.js'), { ok: true, file: join(dir, 'app.js'), type: 'text/javascript; charset=utf-8' });
    for (const p of OUTSIDE) {
      const r = resolveRendererFile(dir, p);
      assert.equal(r.ok ? 200 : r.status, 404, p);
    }
    for (const p of MALFORMED) {
      const r = resolveRendererFile(dir, p);
      assert.equal(r.ok ? 200 : r.status, 400, p);
      assert.match(r.ok ? '' : r.error, /^malformed percent-encoding in path "/, p);
    }
  });

  test('the app:// handler serves that directory only, GET and HEAD, with the CSP on every answer', async () => {
    const get = (url: string, method = 'GET') => serveRendererRequest({ url, method }, dir, 'shardlab');
    const index = await get(APP_INDEX_URL);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(await index.text(), '<!doctype html><title>shardlab</title>');
    const js = await get('app://shardlab/app.js');
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const head = await get('app://shardlab/app.js', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const answers = [index, js, head];
    for (const [url, method, status] of [
      ...OUTSIDE.map((p) => [`app://shardlab${p}`, 'GET', 404] as const),
      ...MALFORMED.map((p) => [`app://shardlab${p}`, 'GET', 400] as const),
      ['app://other/index.html', 'GET', 404],
      ['app://shardlab.evil/index.html', 'GET', 404],
      [APP_INDEX_URL, 'POST', 405],
      ['not a url', 'GET', 400],
    ] as const) {
      const r = await get(url, method);
      assert.equal(r.status, status, `${method} ${url}`);
      const { error } = (await r.clone().json()) as { error: string };
      assert.ok(error && !error.includes('\n'), `${url}: ${error}`);
      answers.push(r);
    }
    for (const r of answers) {
      assert.equal(r.headers.get('content-security-policy'), CSP);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    }
  });
});

describe('Electron navigation and external links (electron/navigation.ts)', () => {
  test('the window may only be on the app page, served from app://shardlab/', () => {
    assert.equal(APP_INDEX_URL, 'app://shardlab/index.html');
    for (const u of [APP_INDEX_URL, `${APP_INDEX_URL}#setup`]) assert.ok(isAppPage(u), u);
    for (const u of [
      'app://shardlab/',
      'app://shardlab/app.js',
      'app://other/index.html',
      'app://shardlab/index.html?x=1',
      'app://user@shardlab/index.html',
      'file:///index.html',
      'https://shardlab/index.html',
      'javascript:alert(1)',
      'not a url',
      '',
    ])
      assert.ok(!isAppPage(u), u);
  });

  test('external links: https on an allow-listed host only; the renderer links to no host outside the list', () => {
    assert.ok(!externalLinkAllowed('https://github.com/'), 'nothing is allowed unless listed');
    const hosts = ['docs.example.org'];
    assert.ok(externalLinkAllowed('https://docs.example.org/a/b?c=d#e', hosts));
    for (const u of [
      'http://docs.example.org/',
      'https://docs.example.org.evil.com/',
      'https://evil.com/docs.example.org',
      'https://docs.example.org@evil.com/',
      'https://user:pw@docs.example.org/',
      'https://docs.example.org:8443/',
      'smb://docs.example.org/share',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'not a url',
    ])
      assert.ok(!externalLinkAllowed(u, hosts), u);
    // The list is the hosts the UI links to: every https?:// address written in the renderer is on it.
    const linked = new Set<string>();
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (/\.(tsx?|html)$/.test(e.name))
          for (const m of readFileSync(join(d, e.name), 'utf8').matchAll(/https?:\/\/([a-z0-9.-]+)/gi)) linked.add(m[1].toLowerCase());
      }
    };
    walk(join(ROOT, 'renderer'));
    assert.deepEqual(
      [...linked].filter((h) => !EXTERNAL_HOSTS.includes(h)),
      [],
    );
  });
});

describe('browser bridge: request targets and the event WebSocket', () => {
  const listeners = new Set<(e: unknown) => void>();
  const fakeHost = {
    call: async (method: unknown) => ({ called: method }),
    onEvent: (l: (e: unknown) => void) => (listeners.add(l), () => listeners.delete(l)),
    close: async () => {},
  };
  const emit = (e: unknown) => {
    for (const l of listeners) l(e);
  };
  let bridge: Awaited<ReturnType<typeof startBridge>>;
  before(async () => {
    bridge = await startBridge({ host: fakeHost as never, rendererDir: rendererFixture() });
  });
  after(() => bridge.close());

  /** One HTTP request with its target sent exactly as written (fetch would normalise it). */
  const raw = (method: string, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: bridge.port, method, path, headers }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });

  test('a malformed percent-encoding or request target is a 400 with one line (GET /%, POST /api/%E0%A4%A, ...)', async () => {
    for (const p of MALFORMED) {
      for (const [method, path] of [
        ['GET', p],
        ['POST', `/api${p}`],
      ]) {
        const r = await raw(method, path, { 'x-shardlab-token': bridge.token });
        assert.equal(r.status, 400, `${method} ${path}: ${r.body}`);
        const { error } = JSON.parse(r.body) as { error: string };
        assert.match(error, method === 'GET' ? /^malformed percent-encoding in path "/ : /^malformed percent-encoding in method name "/);
        assert.ok(!error.includes('\n'));
        assert.equal(r.headers['content-security-policy'], CSP);
      }
    }
    for (const p of OUTSIDE) assert.equal((await raw('GET', p)).status, 404, p);
    assert.equal((await raw('GET', '//')).status, 404);
    assert.equal((await raw('POST', '/api/%E0%A4%A')).status, 401, 'without the token nothing is decoded');
    const encoded = await raw('POST', '/api/%6C%69%73%74%53%6F%63%73', { 'x-shardlab-token': bridge.token });
    assert.deepEqual(JSON.parse(encoded.body), { called: 'listSocs' });
  });

  /** Opens /ws: the open socket, or a rejection carrying the refusal's status, error and headers. */
  const connect = (path: string, protocols: string[] | undefined, headers: Record<string, string> = {}) =>
    new Promise<WsClient>((resolve, reject) => {
      const ws = new WsClient(`ws://127.0.0.1:${bridge.port}${path}`, protocols, { headers });
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          req.destroy();
          reject(Object.assign(new Error(body), { status: res.statusCode, csp: res.headers['content-security-policy'] }));
        });
      });
      ws.once('error', reject);
    });

  test('the WebSocket refuses a missing or wrong token, a token in the URL, a foreign Host or Origin', async () => {
    const t = bridge.token;
    const wrong = 'f'.repeat(48);
    const cases: [string, string, string[] | undefined, Record<string, string>, number][] = [
      ['no subprotocols', '/ws', undefined, {}, 401],
      ['no token', '/ws', [EVENTS_PROTOCOL], {}, 401],
      ['a wrong token', '/ws', wsProtocols(wrong), {}, 401],
      ['a shorter token', '/ws', wsProtocols(t.slice(1)), {}, 401],
      ['the token without the events protocol', '/ws', [`${TOKEN_PROTOCOL_PREFIX}${t}`], {}, 401],
      ['two tokens', '/ws', [...wsProtocols(wrong), `${TOKEN_PROTOCOL_PREFIX}${t}`], {}, 401],
      ['the token in the URL only', `/ws?token=${t}`, undefined, {}, 400],
      ['the token in the URL too', `/ws?token=${t}`, wsProtocols(t), {}, 400],
      ['another path', '/events', wsProtocols(t), {}, 404],
      ['a foreign Origin', '/ws', wsProtocols(t), { origin: 'http://evil.example' }, 403],
      ['a foreign Host', '/ws', wsProtocols(t), { host: `evil.example:${bridge.port}` }, 403],
    ];
    for (const [what, path, protocols, headers, status] of cases) {
      await assert.rejects(connect(path, protocols, headers), (e: Error & { status?: number; csp?: string }) => {
        assert.equal(e.status, status, `${what}: ${e.message}`);
        assert.equal(e.csp, CSP, what);
        const { error } = JSON.parse(e.message) as { error: string };
        assert.ok(error && !error.includes('\n') && !error.includes(t), `${what}: ${error}`);
        return true;
      });
    }
  });

  test('the WebSocket accepts the token as a subprotocol, answers with the events protocol only, and carries events', async () => {
    let selected: unknown;
    const ws = new WsClient(`ws://127.0.0.1:${bridge.port}/ws`, wsProtocols(bridge.token), { origin: bridge.url.replace(/\/$/, '') });
    ws.once('upgrade', (res) => (selected = res.headers['sec-websocket-protocol']));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    assert.equal(selected, EVENTS_PROTOCOL, 'the token is never echoed back');
    assert.equal(ws.protocol, EVENTS_PROTOCOL);
    const got = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
    emit({ type: 'progress', jobId: 'job-7', done: 1, total: 2 });
    assert.deepEqual(JSON.parse(await got), { type: 'progress', jobId: 'job-7', done: 1, total: 2 });
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.send('x'.repeat(5000));
    assert.equal(await closed, 1009, 'a message over 4 KB closes the socket');
  });

  test("the renderer's client sends the token in a header and a subprotocol, and in no URL it uses", async () => {
    const dir = tempDir('shardlab-client-');
    await build({
      entryPoints: [join(ROOT, 'renderer/src/client.ts')],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      outfile: join(dir, 'client.mjs'),
      logLevel: 'silent',
    });
    const urls: string[] = [];
    const sockets: { ws: WsClient; protocols: unknown }[] = [];
    const origin = bridge.url.replace(/\/$/, '');
    class RecordingSocket extends WsClient {
      constructor(url: string, protocols: string[]) {
        super(url, protocols, { origin });
        urls.push(url);
        sockets.push({ ws: this, protocols });
      }
    }
    class InertSocket {}
    const g = globalThis as Record<string, unknown>;
    const realFetch = globalThis.fetch;
    const stored = new Map<string, string>();
    const names = ['window', 'location', 'sessionStorage', 'history', 'WebSocket'];
    Object.assign(g, {
      window: {},
      location: { hash: `#token=${bridge.token}`, pathname: '/', search: '', protocol: 'http:', host: `127.0.0.1:${bridge.port}` },
      sessionStorage: { getItem: (k: string) => stored.get(k) ?? null, setItem: (k: string, v: string) => stored.set(k, v) },
      history: { replaceState: (_s: unknown, _t: string, u: string) => urls.push(new URL(u, bridge.url).href) },
      WebSocket: RecordingSocket,
      fetch: (u: string, init: RequestInit) => {
        const full = new URL(u, bridge.url).href;
        urls.push(full);
        return realFetch(full, init);
      },
    });
    try {
      const { makeClient } = (await import(pathToFileURL(join(dir, 'client.mjs')).href)) as {
        makeClient(): WorkbenchClient;
      };
      const client = makeClient();
      const events: unknown[] = [];
      client.onEvent((e) => events.push(e));
      assert.equal(sockets.length, 1);
      const { ws } = sockets[0];
      if (ws.readyState !== WsClient.OPEN) await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      assert.deepEqual(sockets[0].protocols, wsProtocols(bridge.token));
      assert.deepEqual(await client.call('listSocs', {}), { called: 'listSocs' });
      const arrived = new Promise<void>((resolve) => ws.once('message', () => setImmediate(resolve)));
      emit({ type: 'progress', jobId: 'job-8', done: 2, total: 3 });
      await arrived;
      assert.deepEqual(events, [{ type: 'progress', jobId: 'job-8', done: 2, total: 3 }]);
      const port = bridge.port;
      assert.deepEqual(urls.sort(), [`http://127.0.0.1:${port}/`, `http://127.0.0.1:${port}/api/listSocs`, `ws://127.0.0.1:${port}/ws`]);
      for (const u of urls) assert.ok(!u.includes(bridge.token), u);
    } finally {
      // The client reconnects a closed socket after a second: let it build an inert one, and stop there.
      g.WebSocket = InertSocket;
      for (const { ws } of sockets) ws.close();
      g.fetch = realFetch;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      for (const n of names) delete g[n];
    }
  });
});
