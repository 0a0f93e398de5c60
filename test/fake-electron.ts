/**
 * A small fake of the Electron API members electron/app.ts uses, recording what the app asks of them, so
 * the desktop app's main-process logic runs under Node without Electron's binary.
 */
import type { ElectronApi, FrameLike, InvokeEventLike, MenuItem, WindowOptions } from '../electron/app.js';

type Listener = (...args: any[]) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

class Emitter {
  readonly listeners = new Map<string, Listener[]>();
  on(event: string, l: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), l]);
    return this;
  }
  once(event: string, l: Listener): this {
    return this.on(event, l);
  }
  emit(event: string, ...args: unknown[]): void {
    for (const l of this.listeners.get(event) ?? []) l(...args);
  }
}

export class FakeWebContents extends Emitter {
  readonly mainFrame: FrameLike;
  readonly sent: [string, unknown][] = [];
  openHandler?: (d: { url: string }) => { action: 'deny' };
  constructor(url: string) {
    super();
    this.mainFrame = { url };
  }
  send(channel: string, arg: unknown): void {
    this.sent.push([channel, arg]);
  }
  setWindowOpenHandler(h: (d: { url: string }) => { action: 'deny' }): void {
    this.openHandler = h;
  }
  /** Fires a navigation-like event; returns whether the app prevented it. */
  navigate(event: string, url: string, extra: Record<string, unknown> = {}): boolean {
    let prevented = false;
    this.emit(event, { url, preventDefault: () => (prevented = true), ...extra });
    return prevented;
  }
}

export interface FakeElectron extends ElectronApi {
  windows: FakeWindow[];
  ready(): Promise<void>;
  appEvents: Emitter;
  privileged: { scheme: string; privileges: Record<string, boolean> }[];
  handlers: Map<string, (e: InvokeEventLike, ...args: unknown[]) => unknown>;
  permissions: { request?: Listener; check?: Listener; device?: Listener; headers?: Listener };
  protocolHandlers: Map<string, (r: Request) => Response | Promise<Response>>;
  opened: string[];
  errors: [string, string][];
  /** What the directory picker answers next (a path, or null for cancelled), and the options it was opened with. */
  picker: { answer: string | null; asked: { window: unknown; options: unknown }[] };
  quit: { quit: number; exit?: number };
  menu?: MenuItem[];
}

export class FakeWindow extends Emitter {
  readonly webContents = new FakeWebContents('');
  loaded?: string;
  shown = false;
  constructor(readonly options: WindowOptions) {
    super();
  }
  show(): void {
    this.shown = true;
  }
  async loadURL(url: string): Promise<void> {
    this.loaded = url;
    this.webContents.mainFrame.url = url;
  }
}

export function fakeElectron(o: { isPackaged?: boolean } = {}): FakeElectron {
  let fireReady!: () => void;
  const whenReady = new Promise<void>((r) => (fireReady = r));
  const appEvents = new Emitter();
  const f: FakeElectron = {
    windows: [],
    appEvents,
    privileged: [],
    handlers: new Map(),
    permissions: {},
    protocolHandlers: new Map(),
    opened: [],
    errors: [],
    picker: { answer: null, asked: [] },
    quit: { quit: 0 },
    async ready() {
      fireReady();
      await whenReady;
      await new Promise((r) => setImmediate(r));
    },
    app: {
      isPackaged: o.isPackaged ?? false,
      whenReady: () => whenReady,
      on: (event, l) => appEvents.on(event, l),
      quit: () => void f.quit.quit++,
      exit: (code) => void (f.quit.exit = code ?? 0),
    },
    BrowserWindow: Object.assign(
      class extends FakeWindow {
        constructor(options: WindowOptions) {
          super(options);
          f.windows.push(this);
        }
      },
      { getAllWindows: () => f.windows },
    ),
    dialog: {
      showErrorBox: (title, content) => void f.errors.push([title, content]),
      showOpenDialog: async (window, options) => {
        f.picker.asked.push({ window, options });
        return f.picker.answer === null ? { canceled: true, filePaths: [] } : { canceled: false, filePaths: [f.picker.answer] };
      },
    },
    ipcMain: { handle: (channel, l) => void f.handlers.set(channel, l) },
    Menu: { buildFromTemplate: (t) => (f.menu = t), setApplicationMenu: () => {} },
    protocol: {
      registerSchemesAsPrivileged: (s) => void f.privileged.push(...s),
      handle: (scheme, h) => void f.protocolHandlers.set(scheme, h),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h) => void (f.permissions.request = h),
        setPermissionCheckHandler: (h) => void (f.permissions.check = h),
        setDevicePermissionHandler: (h) => void (f.permissions.device = h),
        webRequest: { onHeadersReceived: (h) => void (f.permissions.headers = h) },
      },
    },
    shell: { openExternal: async (url) => void f.opened.push(url) },
  };
  return f;
}
