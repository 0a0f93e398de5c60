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
 * Electron's API arrives as a parameter (main.ts passes the real one), typed by the few members used here, so
 * this runs under Node against a fake in test/desktop-app.test.ts.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { EngineEvent, JobEvent } from '../engine/workbench/api.js';
import { EngineProcess, findNode, type EngineStatus } from './engine-client.js';
import { handleCall } from './ipc.js';
import { CSP } from './csp.js';
import { serveRendererRequest } from './files.js';
import { APP_HOST, APP_INDEX_URL, APP_SCHEME, externalLinkAllowed, forLog, isAppPage } from './navigation.js';

const RENDERER_DIR = fileURLToPath(new URL('../renderer/', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
/** Plain Node cannot read inside app.asar: a packaged app keeps the engine unpacked beside it (builder.yml). */
export const ENGINE_ENTRY = fileURLToPath(new URL('../engine/workbench/engine-process.js', import.meta.url)).replace(
  /app\.asar([\\/])/,
  'app.asar.unpacked$1',
);

// ---- the few Electron members the app uses (main.ts passes Electron itself) ----------------------------------

type Listener = (...args: any[]) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
export interface FrameLike {
  url: string;
}
export interface WebContentsLike {
  mainFrame: FrameLike;
  send(channel: string, ...args: unknown[]): void;
  on(event: string, listener: Listener): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}
export interface WindowLike {
  webContents: WebContentsLike;
  once(event: string, listener: Listener): unknown;
  on(event: string, listener: Listener): unknown;
  show(): void;
  loadURL(url: string): Promise<void>;
}
export interface InvokeEventLike {
  sender: unknown;
  senderFrame: FrameLike | null;
}
export interface NavigationEvent {
  url: string;
  preventDefault(): void;
}
export interface WindowOptions {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  title: string;
  show: boolean;
  webPreferences: Record<string, unknown>;
}
export type MenuItem = Record<string, unknown>;
export interface ElectronApi {
  app: {
    isPackaged: boolean;
    whenReady(): Promise<unknown>;
    on(event: string, listener: Listener): unknown;
    quit(): void;
    exit(code?: number): void;
  };
  BrowserWindow: (new (options: WindowOptions) => WindowLike) & { getAllWindows(): unknown[] };
  dialog: {
    showErrorBox(title: string, content: string): void;
    showOpenDialog(
      window: unknown,
      options: { title?: string; properties: 'openDirectory'[] },
    ): Promise<{ canceled: boolean; filePaths: string[] }>;
  };
  ipcMain: { handle(channel: string, listener: (e: InvokeEventLike, ...args: unknown[]) => unknown): void };
  Menu: { buildFromTemplate(template: MenuItem[]): unknown; setApplicationMenu(menu: unknown): void };
  protocol: {
    registerSchemesAsPrivileged(schemes: { scheme: string; privileges: Record<string, boolean> }[]): void;
    handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void;
  };
  session: {
    defaultSession: {
      setPermissionRequestHandler(h: (wc: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
      setPermissionCheckHandler(h: (...args: unknown[]) => boolean): void;
      setDevicePermissionHandler(h: (...args: unknown[]) => boolean): void;
      webRequest: {
        onHeadersReceived(
          h: (
            details: { responseHeaders?: Record<string, string[]> },
            callback: (r: { responseHeaders: Record<string, string | string[]> }) => void,
          ) => void,
        ): void;
      };
    };
  };
  shell: { openExternal(url: string): Promise<void> };
}

/** How the app gets its engine (a test passes its own). */
export type EngineFactory = (o: {
  isPackaged: boolean;
  onEvent: (e: JobEvent) => void;
  onStatus: (s: EngineStatus) => void;
}) => EngineProcess;

/** The engine on its Node: the one bundled with a packaged app (resources/node/), else as findNode finds it. */
export const defaultEngine: EngineFactory = ({ isPackaged, onEvent, onStatus }) => {
  const exe = process.platform === 'win32' ? 'node.exe' : 'node';
  const node = findNode({ bundled: isPackaged ? join(process.resourcesPath, 'node', exe) : undefined });
  console.log(`shardlab: the engine runs on Node ${node.version} at ${node.path} (${node.source})`);
  const e = new EngineProcess({ node, entry: ENGINE_ENTRY, host: 'electron', onEvent, onStatus });
  void e.start().catch((err: Error) => console.error(`shardlab: ${err.message}`));
  return e;
};

export interface DesktopApp {
  /** The window, once created. */
  window(): WindowLike | undefined;
  engine(): EngineProcess | undefined;
}

/** Sets up the hardened app on an Electron API: call once, before the app is ready. */
export function startDesktopApp(electron: ElectronApi, makeEngine: EngineFactory = defaultEngine): DesktopApp {
  const { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell } = electron;

  // Before ready, and once: the only privileged scheme. standard (an origin, relative URLs) and secure (a secure
  // context) are what the app's page needs; supportFetchAPI as in Electron's app:// example (the bundle is a module
  // script). No bypassCSP, corsEnabled, allowServiceWorkers or stream.
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

  let win: WindowLike | undefined;
  let engine: EngineProcess | undefined;

  /** Only the app's own window, its top frame, on the app's own page may call the engine. */
  function trusted(e: InvokeEventLike): boolean {
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
        preload: PRELOAD, // eng-disable PRELOAD_JS_CHECK: our own sandboxed preload, exposes functions over three channels only (preload.cts)
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
    const template: MenuItem[] = [
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
  app.on('web-contents-created', (_e: unknown, contents: WebContentsLike) => {
    const stay = (what: string) => (ev: NavigationEvent) => {
      if (isAppPage(ev.url)) return;
      ev.preventDefault();
      console.warn(`shardlab: ${what} to ${forLog(ev.url)} denied`);
    };
    contents.on('will-navigate', stay('navigation'));
    const staySub = stay('subframe navigation');
    contents.on('will-frame-navigate', (ev: NavigationEvent & { isMainFrame: boolean }) => {
      if (!ev.isMainFrame) staySub(ev); // the main frame's are will-navigate's (one refusal, one log line)
    });
    contents.on('will-redirect', stay('redirect'));
    contents.on('will-attach-webview', (ev: NavigationEvent) => ev.preventDefault());
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
      engine = makeEngine({
        isPackaged: app.isPackaged,
        onEvent: (ev) => win?.webContents.send('shardlab:event', ev),
        // The engine process itself died: the window hears it as it hears the engine's own restarts.
        onStatus: (st) => {
          console.warn(`shardlab: ${st.message}`);
          win?.webContents.send('shardlab:event', { type: 'engine', message: st.message } satisfies EngineEvent);
        },
      });
    } catch (err) {
      dialog.showErrorBox('shardlab cannot start its engine', (err as Error).message);
      app.exit(1);
      return;
    }
    const relay = engine;
    ipcMain.handle('shardlab:call', (e, method, payload) => handleCall(relay, trusted(e), method, payload));
    // Setup's "Choose…": the system's directory picker, for the app's own frame only; the path goes back to the
    // renderer, which sends it to importModel (validated there like any payload). Cancelled or refused: null.
    ipcMain.handle('shardlab:choose-directory', async (e) => {
      if (!trusted(e) || !win) return null;
      const r = await dialog.showOpenDialog(win, { title: 'Import a model directory', properties: ['openDirectory'] });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    });
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

  return { window: () => win, engine: () => engine };
}
