/**
 * npm start: the Electron window where Electron and its binary are installed, otherwise browser mode
 * (the bridge on 127.0.0.1, its address printed). `--browser` forces browser mode; `--port N` picks the port.
 *
 * Browser mode listens on DEFAULT_PORT unless told otherwise: the page keeps its settings in localStorage,
 * which belongs to the origin (port included), so a port that changed on every start lost them. When the
 * default is taken (a second workbench, most likely), the next free port is used and the line says that
 * its settings are separate; a port asked for with --port is used or refused, never swapped. `--port 0`
 * takes any free port (the end-to-end tests, which run several servers at once).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startBridge } from './bridge.js';

/** The Electron binary's path, or why there is none. */
export function electronBinary(): { path?: string; why?: string } {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require('electron') as string;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'MODULE_NOT_FOUND') return { why: 'Electron is not installed' };
    if (/failed to install correctly/.test(err.message)) return { why: "Electron's binary is not installed (its download was skipped)" };
    return { why: `Electron cannot start here (${err.message.split('\n')[0]})` };
  }
  return typeof path === 'string' && existsSync(path) ? { path } : { why: 'the electron package has no binary (its download was skipped)' };
}

/** Browser mode's port when none is given. */
export const DEFAULT_PORT = 4280;
/** How many ports after the default are tried when it is taken. */
const PORT_TRIES = 10;

/** The --port value: an integer 0..65535 (0: any free port), DEFAULT_PORT when absent, or why it is refused. */
export function parsePort(args: string[]): { port: number; asked: boolean } | { error: string } {
  const at = args.indexOf('--port');
  if (at < 0) return { port: DEFAULT_PORT, asked: false };
  const v = args[at + 1];
  if (v === undefined || !/^\d+$/.test(v) || Number(v) > 65535)
    return { error: `--port takes a port number 0..65535 (0: any free port), got ${v ?? 'nothing'}` };
  return { port: Number(v), asked: true };
}

/** True when nothing listens on 127.0.0.1:port. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The port to listen on, or a one-line reason to stop. */
async function choosePort(args: string[]): Promise<{ port: number; note?: string } | { error: string }> {
  const p = parsePort(args);
  if ('error' in p) return p;
  if (p.port === 0 || (await portFree(p.port))) return { port: p.port };
  if (p.asked) return { error: `port ${p.port} is in use; pick another with --port N, or --port 0 for any free port` };
  for (let port = p.port + 1; port <= p.port + PORT_TRIES; port++)
    if (await portFree(port))
      return {
        port,
        note: `port ${p.port} is in use (another workbench?); using ${port}, whose saved settings are its own (--port N to choose)`,
      };
  return { error: `ports ${p.port}..${p.port + PORT_TRIES} are in use; pick a free one with --port N, or --port 0 for any` };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const bin = args.includes('--browser') ? { why: '--browser' } : electronBinary();
  if (bin.path) {
    const child = spawn(bin.path, [fileURLToPath(new URL('./main.js', import.meta.url))], { stdio: 'inherit' });
    child.on('exit', (code) => process.exit(code ?? 0));
    return;
  }
  const chosen = await choosePort(args);
  if ('error' in chosen) {
    console.error(`shardlab: ${chosen.error}`);
    process.exit(2);
  }
  if (chosen.note) console.log(chosen.note);
  const bridge = await startBridge({ port: chosen.port });
  console.log(`shardlab workbench in browser mode (${bin.why}).`);
  console.log(`Open ${bridge.openUrl}`);
  console.log('Press Ctrl+C to stop.');
  const stop = () => void bridge.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  main().catch((e: unknown) => {
    console.error(`shardlab: the workbench did not start: ${(e as Error).message ?? String(e)}`);
    process.exit(1);
  });
