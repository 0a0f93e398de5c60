/**
 * npm start: the Electron window where Electron and its binary are installed, otherwise browser mode
 * (the bridge on 127.0.0.1, its address printed). `--browser` forces browser mode; `--port N` picks the port.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
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

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const portAt = args.indexOf('--port');
  const port = portAt >= 0 ? Number(args[portAt + 1]) : 0;
  const bin = args.includes('--browser') ? { why: '--browser' } : electronBinary();
  if (bin.path) {
    const child = spawn(bin.path, [fileURLToPath(new URL('./main.js', import.meta.url))], { stdio: 'inherit' });
    child.on('exit', (code) => process.exit(code ?? 0));
    return;
  }
  const bridge = await startBridge({ port });
  console.log(`shardlab workbench in browser mode (${bin.why}).`);
  console.log(`Open ${bridge.openUrl}`);
  console.log('Press Ctrl+C to stop.');
  const stop = () => void bridge.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
