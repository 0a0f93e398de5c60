/**
 * The Electron main process: one hardened window on the built renderer, the engine in workers
 * (engine/workbench/host.ts), and IPC handlers that check the sender and validate every payload with the
 * same zod code as the browser bridge (engine/workbench/validate.ts).
 *   contextIsolation on, sandbox on, nodeIntegration off, webviews off; a strict Content-Security-Policy
 *   (meta tag in index.html and a response header); navigation and new windows denied; permission
 *   requests refused; only the app's own top frame may call.
 * Native modules (better-sqlite3, onnxruntime-node) must be built for Electron's ABI: npx @electron/rebuild.
 */
import { app, BrowserWindow, ipcMain, Menu, session, shell, type IpcMainInvokeEvent, type MenuItemConstructorOptions } from 'electron';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WorkbenchHost } from '../engine/workbench/host.js';
import { handleCall } from './ipc.js';
import { CSP } from './csp.js';

const INDEX = fileURLToPath(new URL('../renderer/index.html', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const INDEX_URL = pathToFileURL(INDEX).toString();

let win: BrowserWindow | undefined;
const host = new WorkbenchHost('electron');

/** Only the app's own window, its top frame, on the app's own page may call the engine. */
function trusted(e: IpcMainInvokeEvent): boolean {
  const frame = e.senderFrame;
  return !!win && e.sender === win.webContents && !!frame && frame === win.webContents.mainFrame && frame.url.split('#')[0] === INDEX_URL;
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
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win?.show());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (ev, url) => {
    if (url.split('#')[0] !== INDEX_URL) ev.preventDefault();
  });
  win.webContents.on('will-attach-webview', (ev) => ev.preventDefault());
  win.on('closed', () => (win = undefined));
  void win.loadFile(INDEX);
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
        { role: 'toggleDevTools' },
      ],
    },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: 'Keyboard Shortcuts', accelerator: 'F1', click: send('help') }] },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (ev, url) => {
    if (url.split('#')[0] !== INDEX_URL) ev.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

void app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } }),
  );
  ipcMain.handle('shardlab:call', (e, method: unknown, payload: unknown) => handleCall(host, trusted(e), method, payload));
  host.onEvent((ev) => win?.webContents.send('shardlab:event', ev));
  menu();
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  void host.close().finally(() => app.quit());
});
