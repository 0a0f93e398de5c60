/**
 * The desktop app's engine: a plain Node process running engine/workbench/engine-process.ts, forked by
 * Electron's main process and spoken to over its IPC channel. Electron-free, so it is tested under Node.
 * Why a process: the engine's native modules (better-sqlite3) are built by `npm install` for Node's ABI;
 * inside Electron they would not load. One build serves the CLI, browser mode and the desktop app.
 * Lifetime: close() stops it (the window closed); if it dies, pending calls fail with one line, it is
 * restarted, and onStatus tells the window.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { AppInfo, EngineEvent, JobEvent } from '../engine/workbench/api.js';
import type { EngineMessage, EngineRequest } from '../engine/workbench/engine-process.js';
import { CallError } from '../engine/workbench/call-error.js';
import { ExitWindow } from '../engine/workbench/exit-window.js';

export const MIN_NODE_MAJOR = 20;
/** More unexpected exits than this within RESTART_WINDOW_MS and the engine is left stopped (it cannot start). */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;
const CLOSE_GRACE_MS = 3000;

export interface NodeRuntime {
  path: string;
  version: string;
  /** Where it was found, as the app says it: "SHARDLAB_NODE", "bundled with the app", "the Node that ran npm start", "PATH". */
  source: string;
}

/** A Node binary's version, or undefined when it is not one that runs. */
function nodeVersion(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // asked as it will be run: an Electron binary is not a Node here
  const r = spawnSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 10_000, env });
  const v = r.status === 0 ? r.stdout.trim() : '';
  return /^\d+\.\d+\.\d+$/.test(v) ? v : undefined;
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const exe = process.platform === 'win32' ? `${name}.exe` : name;
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir && existsSync(join(dir, exe))) return join(dir, exe);
  return undefined;
}

/**
 * The Node that runs the engine: SHARDLAB_NODE if set (and then only it), else the one bundled with a
 * packaged app, else the Node that ran `npm start`, else `node` on PATH. Throws one line when none fits.
 */
export function findNode(o: { bundled?: string; env?: NodeJS.ProcessEnv } = {}): NodeRuntime {
  const env = o.env ?? process.env;
  const candidates: [string | undefined, string][] = env.SHARDLAB_NODE
    ? [[env.SHARDLAB_NODE, 'SHARDLAB_NODE']]
    : [
        [o.bundled, 'bundled with the app'],
        [env.npm_node_execpath, 'the Node that ran npm start'],
        [process.versions.electron ? undefined : process.execPath, 'this process'],
        [onPath('node', env), 'PATH'],
      ];
  const tried: string[] = [];
  for (const [path, source] of candidates) {
    if (!path) continue;
    const version = nodeVersion(path);
    if (version && Number(version.split('.')[0]) >= MIN_NODE_MAJOR) return { path, version, source };
    tried.push(`${path} (${source}: ${version ? `Node ${version}` : 'not a Node binary that runs'})`);
  }
  throw new Error(
    `no Node.js ${MIN_NODE_MAJOR} or later to run the engine (tried: ${tried.join('; ') || 'nothing on PATH'}); ` +
      'install Node 20+ or set SHARDLAB_NODE=/path/to/node',
  );
}

export type EngineStatus = { state: 'restarted'; message: string } | { state: 'failed'; message: string };

export interface EngineOptions {
  node: NodeRuntime;
  /** engine/workbench/engine-process.js as built (outside any asar archive: plain Node reads it). */
  entry: string;
  host: AppInfo['host'];
  /** Job events, and the engine's own word that its service restarted. */
  onEvent(e: JobEvent | EngineEvent): void;
  onStatus?(s: EngineStatus): void;
}

type Pending = { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void };

export class EngineProcess {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly exits = new ExitWindow(RESTART_WINDOW_MS);
  private closed = false;
  private failed: string | undefined;
  private ready: Promise<void> = Promise.resolve();

  constructor(private readonly o: EngineOptions) {}

  /** Starts the engine if it is not running. Resolves when it has said it is ready. */
  start(): Promise<void> {
    this.spawn();
    return this.ready;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private spawn(): ChildProcess {
    if (this.child) return this.child;
    const env = { ...process.env };
    delete env.ELECTRON_RUN_AS_NODE; // a Node, not Electron-as-Node
    const child = fork(this.o.entry, [this.o.host], { execPath: this.o.node.path, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      child.on('message', (m: EngineMessage) => 'ready' in m && resolve());
      child.once('exit', () => reject(new Error('the engine process exited before it was ready')));
    });
    this.ready.catch(() => {}); // a caller that awaits start() sees it; nobody else must
    child.on('message', (m: EngineMessage) => this.receive(m));
    child.on('exit', (code, signal) => this.exited(child, signal ?? `exit code ${code}`));
    child.on('error', (e) => console.error(`shardlab: the engine process: ${e.message}`));
    this.child = child;
    return child;
  }

  private receive(m: EngineMessage): void {
    if ('event' in m) return this.o.onEvent(m.event);
    if ('ready' in m) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new CallError(m.error, m.user));
  }

  private exited(child: ChildProcess, how: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (this.closed) return;
    const lost = `the engine process stopped (${how})`;
    for (const p of this.pending.values()) p.reject(new CallError(`${p.method}: ${lost}; it was restarted, try again`, false));
    this.pending.clear();
    const exits = this.exits.record();
    if (exits > MAX_RESTARTS) {
      this.failed = `${lost} ${exits} times within a minute; it is left stopped: restart the app (the terminal shows why)`;
      this.o.onStatus?.({ state: 'failed', message: this.failed });
      return;
    }
    this.spawn();
    this.o.onStatus?.({ state: 'restarted', message: `${lost}; a new one was started (running jobs were lost, stored results are kept)` });
  }

  /** One WorkbenchApi call, validated by the engine's host (as WorkbenchHost.call takes it). */
  call(method: unknown, payload: unknown): Promise<unknown> {
    if (this.closed) return Promise.reject(new CallError('the engine is shutting down', false));
    if (this.failed) return Promise.reject(new CallError(this.failed, false));
    const child = this.spawn();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method: String(method), resolve, reject });
      child.send({ id, method, payload } satisfies EngineRequest);
    });
  }

  /** Stops the engine: it closes its host when its channel closes; killed if it has not exited after a grace. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.disconnect();
    else child.kill();
    const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
}
