/**
 * The desktop app's main-process logic (electron/app.ts) against a fake of the Electron API
 * (test/fake-electron.ts), with its real engine process: the privileged scheme, window options, permission
 * handlers and CSP, IPC sender validation and the relay to the engine, navigation and external links, the
 * engine's restart told to the window, the engine stopping with the window, and a clear refusal when no
 * engine can start. Electron's own behaviour is the real-Electron e2e suite's (skipped where no binary).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { AppInfo } from '../engine/workbench/api.js';
import { startDesktopApp } from '../electron/app.js';
import { CSP } from '../electron/csp.js';
import { APP_INDEX_URL, APP_SCHEME } from '../electron/navigation.js';
import { fakeElectron, FakeWebContents } from './fake-electron.js';
import { alive, tempDir } from './helpers.js';

process.env.SHARDLAB_HOME = tempDir('shardlab-desktop-app-');

describe('the desktop app on a fake Electron, with its real engine process', async () => {
  const electron = fakeElectron();
  const desktop = startDesktopApp(electron);
  after(async () => {
    electron.appEvents.emit('window-all-closed');
    await new Promise((r) => setTimeout(r, 200));
  });

  test('before ready: only the app:// scheme is privileged, with standard, secure and fetch only', () => {
    assert.deepEqual(electron.privileged, [{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    assert.equal(electron.windows.length, 0);
  });

  test('ready: one hardened window on the app page; permissions denied; CSP on every answer', async () => {
    await electron.ready();
    assert.equal(electron.windows.length, 1);
    const w = electron.windows[0];
    assert.equal(w.loaded, APP_INDEX_URL);
    const p = w.options.webPreferences;
    for (const [k, v] of Object.entries({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      devTools: true, // unpackaged; see the packaged test below
    }))
      assert.equal(p[k], v, k);
    assert.match(String(p.preload), /preload\.cjs$/);
    let granted: boolean | undefined;
    electron.permissions.request!(null, 'media', (g: boolean) => (granted = g));
    assert.equal(granted, false);
    assert.equal(electron.permissions.check!(), false);
    assert.equal(electron.permissions.device!(), false);
    let headers: Record<string, unknown> = {};
    electron.permissions.headers!(
      { responseHeaders: { x: ['1'] } },
      (r: { responseHeaders: Record<string, unknown> }) => (headers = r.responseHeaders),
    );
    assert.deepEqual(headers, { x: ['1'], 'Content-Security-Policy': [CSP] });
    assert.ok(electron.protocolHandlers.has(APP_SCHEME));
    const res = await electron.protocolHandlers.get(APP_SCHEME)!(new Request('app://elsewhere/index.html'));
    assert.ok(res.status >= 400, 'another host under app:// is refused');
  });

  test('IPC: the app frame reaches the engine process; other senders, subframes and pages are refused', async () => {
    const w = electron.windows[0];
    const call = electron.handlers.get('shardlab:call')!;
    const ok = (await call({ sender: w.webContents, senderFrame: w.webContents.mainFrame }, 'info', {})) as { ok: boolean; value: AppInfo };
    assert.equal(ok.ok, true);
    assert.equal(ok.value.host, 'electron');
    assert.equal(ok.value.dataDir, process.env.SHARDLAB_HOME);
    const refused = { ok: false, error: 'refused: this frame may not call the workbench' };
    assert.deepEqual(await call({ sender: new FakeWebContents(APP_INDEX_URL), senderFrame: w.webContents.mainFrame }, 'info', {}), refused);
    assert.deepEqual(await call({ sender: w.webContents, senderFrame: { url: APP_INDEX_URL } }, 'info', {}), refused);
    const elsewhere = { url: 'https://example.com/' };
    assert.deepEqual(await call({ sender: w.webContents, senderFrame: elsewhere }, 'info', {}), refused);
    const bad = (await call({ sender: w.webContents, senderFrame: w.webContents.mainFrame }, 'plan', { soc: 1 })) as {
      ok: boolean;
      error: string;
    };
    assert.equal(bad.ok, false);
    assert.match(bad.error, /^plan: /);
  });

  test("IPC: Setup's directory picker opens on the app's window for the app frame only; cancelled is null", async () => {
    const w = electron.windows[0];
    const choose = electron.handlers.get('shardlab:choose-directory')!;
    const mine = { sender: w.webContents, senderFrame: w.webContents.mainFrame };
    electron.picker.answer = '/models/my-bert';
    assert.equal(await choose(mine), '/models/my-bert');
    assert.equal(electron.picker.asked.length, 1);
    assert.equal(electron.picker.asked[0].window, w);
    assert.deepEqual((electron.picker.asked[0].options as { properties: string[] }).properties, ['openDirectory']);
    electron.picker.answer = null;
    assert.equal(await choose(mine), null);
    assert.equal(await choose({ sender: new FakeWebContents(APP_INDEX_URL), senderFrame: w.webContents.mainFrame }), null);
    assert.equal(electron.picker.asked.length, 2, 'a refused frame never opens the picker');
  });

  test('navigation stays on the app page; redirects, webviews and new windows are denied; no external link opens', () => {
    const contents = new FakeWebContents(APP_INDEX_URL);
    electron.appEvents.emit('web-contents-created', {}, contents);
    assert.equal(contents.navigate('will-navigate', 'https://example.com/'), true);
    assert.equal(contents.navigate('will-navigate', `${APP_INDEX_URL}#whatif`), false);
    assert.equal(contents.navigate('will-redirect', 'file:///etc/passwd'), true);
    assert.equal(contents.navigate('will-frame-navigate', 'https://example.com/', { isMainFrame: false }), true);
    assert.equal(contents.navigate('will-attach-webview', APP_INDEX_URL), true);
    assert.deepEqual(contents.openHandler!({ url: 'https://example.com/' }), { action: 'deny' });
    assert.deepEqual(contents.openHandler!({ url: 'javascript:alert(1)' }), { action: 'deny' });
    assert.deepEqual(electron.opened, [], 'the allow-list is empty: nothing opens in the system browser');
  });

  test('a dead engine is restarted, the window is told, and the next call works', async () => {
    const w = electron.windows[0];
    const pid = desktop.engine()!.pid!;
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    const told = () => w.webContents.sent.find(([c, e]) => c === 'shardlab:event' && (e as { type: string }).type === 'engine');
    while (!told() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match((told()![1] as { message: string }).message, /the engine process stopped \(SIGKILL\); a new one was started/);
    const call = electron.handlers.get('shardlab:call')!;
    const again = (await call({ sender: w.webContents, senderFrame: w.webContents.mainFrame }, 'listSocs', {})) as { ok: boolean };
    assert.equal(again.ok, true);
    assert.notEqual(desktop.engine()!.pid, pid);
  });

  test('closing the window stops the engine and quits', async () => {
    const pid = desktop.engine()!.pid!;
    electron.appEvents.emit('window-all-closed');
    const deadline = Date.now() + 10_000;
    while (electron.quit.quit === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(electron.quit.quit, 1);
    assert.equal(alive(pid), false);
  });
});

test('a packaged app has no DevTools; an engine that cannot start is one error box and exit 1', async () => {
  const electron = fakeElectron({ isPackaged: true });
  startDesktopApp(electron, () => {
    throw new Error(
      'no Node.js 20 or later to run the engine (tried: nothing on PATH); install Node 20+ or set SHARDLAB_NODE=/path/to/node',
    );
  });
  await electron.ready();
  assert.deepEqual(electron.errors, [
    [
      'shardlab cannot start its engine',
      'no Node.js 20 or later to run the engine (tried: nothing on PATH); install Node 20+ or set SHARDLAB_NODE=/path/to/node',
    ],
  ]);
  assert.equal(electron.quit.exit, 1);
  assert.equal(electron.windows.length, 0);
  const packaged = fakeElectron({ isPackaged: true });
  let made = 0;
  startDesktopApp(packaged, () => {
    made++;
    return { close: async () => {}, call: async () => null } as never;
  });
  await packaged.ready();
  assert.equal(made, 1);
  assert.equal(packaged.windows[0].options.webPreferences.devTools, false);
  assert.ok(!JSON.stringify(packaged.menu).includes('toggleDevTools'));
});
