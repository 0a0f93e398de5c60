/**
 * The workbench's engine side without a UI: payload validation of every method (what both the bridge and
 * the Electron IPC handler run), the service over the real engine, the worker host with jobs and cancel,
 * the IPC handler's sender check, and the bridge's token, host and payload checks.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from './helpers.js';

const HOME = tempDir('shardlab-workbench-');
process.env.SHARDLAB_HOME = HOME;

const { METHODS } = await import('../engine/workbench/api.js');
const { validateCall, BadRequest } = await import('../engine/workbench/validate.js');
const { WorkbenchService } = await import('../engine/workbench/service.js');
const { WorkbenchHost, CallError } = await import('../engine/workbench/host.js');
const { handleCall } = await import('../electron/ipc.js');
const { startBridge } = await import('../electron/bridge.js');
const { CSP } = await import('../electron/csp.js');
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
  importance: [{ model: 'bert-spam', evalLimit: 0 }, /^importance: evalLimit: must be more than 0$/],
  startJob: [{ kind: 'live', query: { ...Q, planner: 'sti' }, slowdown: 0.5 }, /^startJob: slowdown: must be at least 1$/],
  cancelJob: [{ jobId: 3 }, /^cancelJob: jobId: expected string$/],
  listSweeps: [{ all: true }, /^listSweeps: payload: unknown field "all"$/],
  getSweep: [{ id: -1 }, /^getSweep: id: must be more than 0$/],
  deleteSweep: [{}, /^deleteSweep: id: expected number$/],
  exportSweep: [{ id: 1, format: 'xlsx' }, /^exportSweep: format: must be one of/],
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
