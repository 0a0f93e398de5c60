// Typechecks and compiles electron/main.ts and electron/preload.cts when the electron package (its types)
// is installed. Without it they are NOT checked, and this says so: install it with
// ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install (types only) or with network access to Electron's downloads.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
if (!existsSync(join(root, 'node_modules/electron/electron.d.ts'))) {
  console.warn(
    'electron/main.ts and electron/preload.cts were NOT typechecked or built: the electron package is not installed.\n' +
      '  Install its types with: ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install   (browser mode works without it)',
  );
} else {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', join(here, 'tsconfig.json')], { stdio: 'inherit' });
  console.log('electron main and preload built into dist/electron/');
}
