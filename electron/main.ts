/**
 * The Electron main process: one hardened window on the built renderer, and IPC handlers that check the
 * sender and relay every call to the engine. The engine runs in a plain Node process of its own
 * (electron/engine-client.ts), never inside Electron, so its native modules are the ones `npm install`
 * built for Node; it validates every payload with the same zod code as the browser bridge.
 *   The renderer is served from the privileged custom protocol app://shardlab/ (dist/renderer/ only, through the
 *   bridge's path resolution in electron/files.ts), never from file://. contextIsolation on, sandbox on,
 *   nodeIntegration off, webviews off; a strict Content-Security-Policy (meta tag in index.html and a header on
 *   every answer); navigations, redirects and new windows denied; external links only to allow-listed hosts
 *   (electron/navigation.ts), anything else refused and logged; permission requests and checks denied; DevTools
 *   only in an unpackaged app; only the app's own top frame may call.
 * Nothing here loads a native module: no @electron/rebuild.
 */
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  protocol,
  session,
  shell,
  type IpcMainInvokeEvent,
  type MenuItemConstructorOptions,
} from 'electron';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { EngineProcess, findNode, type EngineStatus } from './engine-client.js';
import { handleCall } from './ipc.js';
import { CSP } from './csp.js';
import { serveRendererRequest } from './files.js';
import { APP_HOST, APP_INDEX_URL, APP_SCHEME, externalLinkAllowed, forLog, isAppPage } from './navigation.js';

const RENDERER_DIR = fileURLToPath(new URL('../renderer/', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
/** Plain Node cannot read inside app.asar: a packaged app keeps the engine unpacked beside it (electron-builder.yml). */
const ENGINE_ENTRY = fileURLToPath(new URL('../engine/workbench/engine-process.js', import.meta.url)).replace(
  /app\.asar([\\/])/,
  'app.asar.unpacked$1',
);

// Before ready, and once: the only privileged scheme. standard (an origin, relative URLs) and secure (a secure
// context) are what the app's page needs; supportFetchAPI as in Electron's app:// example (the bundle is a module
// script). No bypassCSP, corsEnabled, allowServiceWorkers or stream.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let win: BrowserWindow | undefined;
let engine: EngineProcess | undefined;

/** The engine's Node: bundled with a packaged app (resources/node/), else found as findNode says. */
function startEngine(): EngineProcess {
  const exe = process.platform === 'win32' ? 'node.exe' : 'node';
  const node = findNode({ bundled: app.isPackaged ? join(process.resourcesPath, 'node', exe) : undefined });
  console.log(`shardlab: the engine runs on Node ${node.version} at ${node.path} (${node.source})`);
  const e = new EngineProcess({
    node,
    entry: ENGINE_ENTRY,
    host: 'electron',
    onEvent: (ev) => win?.webContents.send('shardlab:event', ev),
    onStatus: (s: EngineStatus) => {
      console.warn(`shardlab: ${s.message}`);
      win?.webContents.send('shardlab:engine', s);
    },
  });
  void e.start().catch((err: Error) => console.error(`shardlab: ${err.message}`));
  return e;
}

/** Only the app's own window, its top frame, on the app's own page may call the engine. */
function trusted(e: IpcMainInvokeEvent): boolean {
  const frame = e.senderFrame;
  return !!win && e.sender === win.webContents && !!frame && frame === win.webContents.mainFrame && isAppPage(frame.url);
}

/** Opens an allow-listed https link in the system browser; refuses and logs anything else. */
function openExternal(url: string): void {
  if (!externalLinkAllowed(url)) {
    console.warn(`shardlab: refused to open ${forLog(url)} outside the app: not an allow-listed https link (electron/navigation.ts)`);
    return;
  }
  setImmediate(() => void shell.openExternal(url)); // eng-disable OPEN_EXTERNAL_JS_CHECK: only allow-listed https hosts reach here (externalLinkAllowed)
}

function createWindow(): void {
  win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 600,
    title: 'shardlab',
    show: false,
    webPreferences: {
      preload: PRELOAD, // eng-disable PRELOAD_JS_CHECK: our own sandboxed preload, exposes functions over four channels only (preload.cts)
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      // No middle-click openings (auxclick): the app has no use for them, and they are a way to a new window.
      disableBlinkFeatures: 'Auxclick',
      spellcheck: false,
      devTools: !app.isPackaged,
    },
  });
  win.once('ready-to-show', () => win?.show());
  win.on('closed', () => (win = undefined));
  void win.loadURL(APP_INDEX_URL);
}

function menu(): void {
  const send = (command: string) => () => win?.webContents.send('shardlab:menu', command);
  const views = ['setup', 'whatif', 'pipeline', 'buffer', 'tradeoffs', 'experiments', 'live'];
  const labels = ['Setup', 'What-if', 'Pipeline', 'Buffer', 'Tradeoffs', 'Experiments', 'Live'];
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Run Live', accelerator: 'CmdOrCtrl+R', click: send('run') },
        { label: 'Export Chrome Trace of the Plan', accelerator: 'CmdOrCtrl+E', click: send('export-trace') },
        { type: 'separator' },
        process.platform === 'darwin' ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        ...views.map((v, i) => ({ label: labels[i], accelerator: `CmdOrCtrl+${i + 1}`, click: send(`view:${v}`) })),
        { type: 'separator' },
        { label: 'Toggle Dark Theme', accelerator: 'CmdOrCtrl+Shift+D', click: send('toggle-theme') },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { role: 'togglefullscreen' },
        // DevTools for development only: a packaged app has neither the entry nor DevTools (webPreferences.devTools).
        ...(app.isPackaged ? [] : [{ type: 'separator' as const }, { role: 'toggleDevTools' as const }]),
      ],
    },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: 'Keyboard Shortcuts', accelerator: 'F1', click: send('help') }] },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

// Every web contents (the window's and any other): it stays on the app's page; redirects, navigations of any
// frame elsewhere, webviews and new windows are denied; a link meant for a new window goes through openExternal.
app.on('web-contents-created', (_e, contents) => {
  const stay = (what: string) => (ev: { url: string; preventDefault: () => void }) => {
    if (isAppPage(ev.url)) return;
    ev.preventDefault();
    console.warn(`shardlab: ${what} to ${forLog(ev.url)} denied`);
  };
  contents.on('will-navigate', stay('navigation'));
  const staySub = stay('subframe navigation');
  contents.on('will-frame-navigate', (ev) => {
    if (!ev.isMainFrame) staySub(ev); // the main frame's are will-navigate's (one refusal, one log line)
  });
  contents.on('will-redirect', stay('redirect'));
  contents.on('will-attach-webview', (ev) => ev.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openExternal(url);
    return { action: 'deny' };
  });
});

void app.whenReady().then(() => {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } }),
  );
  // The app's files, from dist/renderer/ only: other hosts, methods and paths outside it are refused.
  protocol.handle(APP_SCHEME, (request) => serveRendererRequest(request, RENDERER_DIR, APP_HOST));
  try {
    engine = startEngine();
  } catch (err) {
    dialog.showErrorBox('shardlab cannot start its engine', (err as Error).message);
    app.exit(1);
    return;
  }
  const relay = engine;
  ipcMain.handle('shardlab:call', (e, method: unknown, payload: unknown) => handleCall(relay, trusted(e), method, payload));
  menu();
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

// The engine's lifetime follows the window's.
app.on('window-all-closed', () => {
  void (engine?.close() ?? Promise.resolve()).finally(() => app.quit());
});
