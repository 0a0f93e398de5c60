// npm run dist: desktop packages of the workbench with electron-builder (configuration: electron/builder.yml),
// for the platform this runs on (the bundled engine Node is this machine's: Linux gives AppImage and .deb,
// macOS a .dmg, Windows an installer). Needs Electron's binary (npm install with access to Electron's
// downloads); where it is missing this says so in one line and exits non-zero. Output: release/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const startJs = join(root, 'dist/electron/start.js');
if (!existsSync(startJs)) {
  console.error('npm run dist: dist/ is not built; run npm run build first (npm run dist does it)');
  process.exit(1);
}
const { electronBinary } = await import(startJs);
const bin = electronBinary();
if (!bin.path) {
  console.error(
    `npm run dist: cannot package: ${bin.why}. Install Electron with access to its downloads ` +
      '(npm install without ELECTRON_SKIP_BINARY_DOWNLOAD), then run npm run dist again; nothing was built.',
  );
  process.exit(1);
}
if (!existsSync(join(root, 'node_modules/electron/dist'))) {
  console.error('npm run dist: node_modules/electron/dist is missing (the Electron package is incomplete); reinstall it');
  process.exit(1);
}

// The engine's Node: this one, whose ABI `npm install` built better-sqlite3 for.
const runtime = join(root, 'dist/node-runtime');
rmSync(runtime, { recursive: true, force: true });
mkdirSync(runtime, { recursive: true });
copyFileSync(process.execPath, join(runtime, process.platform === 'win32' ? 'node.exe' : 'node'));
console.log(`npm run dist: bundling Node ${process.version} (${basename(process.execPath)}) as the engine's runtime`);

const cli = join(root, 'node_modules/electron-builder/cli.js');
const r = spawnSync(process.execPath, [cli, '--config', 'electron/builder.yml', '--publish', 'never'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`npm run dist: electron-builder failed (exit ${r.status ?? r.signal}); its output is above`);
  process.exit(1);
}
console.log('npm run dist: packages in release/');
