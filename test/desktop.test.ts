/**
 * The desktop app (issue 19), Electron-free: electron/engine-client.ts forks engine/workbench/engine-process.ts
 * on plain Node, relays calls and job events over the IPC channel, restarts the engine when it dies (pending
 * calls fail with one line), and stops it on close; `npm run dist` without Electron's binary says so and fails.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { AppInfo, JobEvent } from '../engine/workbench/api.js';
import { WebSocket as WsClient } from 'ws';
import { EngineProcess, findNode, type EngineStatus } from '../electron/engine-client.js';
import { apiContract, type ApiUnderTest } from './api-contract.js';
import { alive, ROOT, tempDir } from './helpers.js';

process.env.SHARDLAB_HOME = tempDir('shardlab-engine-process-');
const ENTRY = join(ROOT, 'dist/engine/workbench/engine-process.js');
const { ENGINE_ENTRY } = await import('../electron/app.js');
const { startBridge } = await import('../electron/bridge.js');
const { wsProtocols } = await import('../electron/ws-auth.js');

// The same WorkbenchApi contract for both front ends: browser mode's bridge over HTTP and its WebSocket, and the
// engine process started exactly as the desktop app starts it (its Node, its entry) and spoken to over IPC.
const closers: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of closers) await c();
});
apiContract('browser bridge', async () => {
  const bridge = await startBridge({ port: 0 });
  const events: JobEvent[] = [];
  const ws = new WsClient(`ws://127.0.0.1:${bridge.port}/ws`, wsProtocols(bridge.token), { origin: bridge.url.replace(/\/$/, '') });
  ws.on('message', (d) => events.push(JSON.parse(String(d)) as JobEvent));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  closers.push(async () => {
    ws.close();
    await bridge.close();
  });
  const call = async (method: string, payload: unknown) => {
    const r = await fetch(`${bridge.url.replace(/\/$/, '')}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shardlab-token': bridge.token },
      body: JSON.stringify(payload),
    });
    const body = (await r.json()) as { error?: string };
    if (!r.ok) throw new Error(body.error);
    return body;
  };
  return { call, events } satisfies ApiUnderTest;
});
apiContract('desktop engine process', async () => {
  const events: JobEvent[] = [];
  const e = new EngineProcess({
    node: findNode(),
    entry: ENGINE_ENTRY,
    host: 'electron',
    onEvent: (ev) => 'jobId' in ev && events.push(ev),
  });
  await e.start();
  closers.push(() => e.close());
  return { call: (m, p) => e.call(m, p), events };
});

const events: JobEvent[] = [];
const statuses: EngineStatus[] = [];
const engine = new EngineProcess({
  node: findNode(),
  entry: ENTRY,
  host: 'electron',
  onEvent: (e) => 'jobId' in e && events.push(e),
  onStatus: (s) => statuses.push(s),
});
after(() => engine.close());

test('findNode: this Node when nothing else is named; SHARDLAB_NODE that is not a Node is refused in one line', () => {
  const here = findNode({ env: { PATH: '' } });
  assert.equal(here.version, process.versions.node);
  assert.throws(
    () => findNode({ env: { SHARDLAB_NODE: '/nonexistent/node' } }),
    (e: Error) => /SHARDLAB_NODE/.test(e.message) && /install Node 20\+/.test(e.message) && !e.message.includes('\n'),
  );
});

test('the engine answers calls from its own Node process and validates them there', async () => {
  await engine.start();
  assert.ok(engine.pid && engine.pid !== process.pid);
  const info = (await engine.call('info', {})) as AppInfo;
  assert.equal(info.host, 'electron');
  assert.equal(info.dataDir, process.env.SHARDLAB_HOME);
  await assert.rejects(engine.call('plan', { soc: 42 }), (e: Error & { user?: boolean }) => /^plan: /.test(e.message) && e.user === true);
  await assert.rejects(engine.call('noSuchMethod', {}), /unknown method/);
});

test('job events come back over the channel', async () => {
  const { jobId } = (await engine.call('startJob', {
    kind: 'accuracy',
    query: { soc: 'odroid-n2plus', model: 'bert-spam', planner: 'sti-uniform', targetMs: 120, bufferKb: 1536, evalLimit: 16 },
  })) as { jobId: string };
  const deadline = Date.now() + 120_000;
  while (!events.some((e) => e.jobId === jobId && ['done', 'error', 'cancelled'].includes(e.type)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  const last = events.filter((e) => e.jobId === jobId).at(-1)!;
  assert.equal(last.type, 'done', JSON.stringify(last));
  assert.ok(events.some((e) => e.jobId === jobId && e.type === 'started'));
});

test('a killed engine fails its pending call in one line, is restarted, and the next call works', async () => {
  const pid = engine.pid!;
  const pending = engine.call('listModels', {});
  process.kill(pid, 'SIGKILL');
  await assert.rejects(pending, (e: Error) => /the engine process stopped \(SIGKILL\); it was restarted, try again/.test(e.message));
  assert.equal(statuses.at(-1)?.state, 'restarted');
  const info = (await engine.call('info', {})) as AppInfo;
  assert.equal(info.host, 'electron');
  assert.ok(engine.pid && engine.pid !== pid);
  assert.equal(alive(pid), false);
});

test('close stops the engine process (the window closed)', async () => {
  const pid = engine.pid!;
  await engine.close();
  assert.equal(alive(pid), false);
  await assert.rejects(engine.call('info', {}), /shutting down/);
});

test('npm run dist without an Electron binary: one line that says what to do, non-zero exit, nothing built', (t) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'electron/dist.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status === 0) return t.skip('Electron and its binary are installed here: dist built packages');
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^npm run dist: cannot package: .*(Electron|electron).*; nothing was built\.$/);
});
