/**
 * What the end-to-end suites share: a fresh data directory, the browser-mode bridge started the way
 * `npm start` starts it (a child process that prints its address), Debian's Chromium driven by
 * playwright-core, the Electron binary where one exists, and screenshots under test-results/screenshots/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, tempDir } from '../helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Waits longer than Playwright's 30 s default: `npm test` runs two test files at once on two cores, so a page
 * can wait on an engine that shares its core with another file's work.
 */
export const E2E_WAIT_MS = 90_000;

/** Debian's Chromium, headless, on a fresh profile unless one is given, with the suites' wait. */
export async function launchBrowser(
  opts: { viewport?: { width: number; height: number }; downloads?: boolean; profile?: string } = {},
): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(opts.profile ?? tempDir('shardlab-chromium-'), {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    acceptDownloads: opts.downloads ?? false,
  });
  context.setDefaultTimeout(E2E_WAIT_MS);
  return context;
}

export const SCREENSHOTS = join(ROOT, 'test-results/screenshots');

export interface Server {
  url: string;
  openUrl: string;
  token: string;
  home: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `node dist/electron/start.js --browser` on a fresh SHARDLAB_HOME and waits for the address it
 * prints. Any free port unless one is given, so parallel servers never collide.
 */
/** One API call to a started bridge, as the page makes it; anything but 200 fails the test with the bridge's line. */
export async function apiCall(server: Pick<Server, 'url' | 'token'>, method: string, payload: unknown): Promise<unknown> {
  const r = await fetch(`${server.url}api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shardlab-token': server.token },
    body: JSON.stringify(payload),
  });
  const body = (await r.json()) as unknown;
  if (r.status !== 200) throw new Error(`${method}: HTTP ${r.status} ${JSON.stringify(body)}`);
  return body;
}

export async function startServer(home = tempDir('shardlab-e2e-'), port = 0): Promise<Server> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/electron/start.js'), '--browser', '--port', String(port)], {
    env: { ...process.env, SHARDLAB_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never leave a bridge behind, whatever happens to the test process.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let out = '';
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[bridge] ${d}`));
  const openUrl = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the bridge printed no address in 60 s: ${out}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Open (http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`the bridge exited (${code}): ${out}`)));
  });
  const [url, token] = openUrl.split('#token=');
  return {
    url,
    openUrl,
    token,
    home,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The Electron binary, when the electron package and its download are both there. */
export function electronBinary(): string | undefined {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown;
    return typeof p === 'string' && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

export async function shot(page: Page, suite: string, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${suite}-${name}.png`) });
}
