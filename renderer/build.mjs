// Builds the renderer: typecheck (tsc -p renderer) then one esbuild bundle into dist/renderer/.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(root, 'dist/renderer');
if (!process.argv.includes('--no-check'))
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(here, 'src/main.tsx') },
  bundle: true,
  format: 'esm',
  target: 'chrome120',
  minify: true,
  sourcemap: true,
  outdir: out,
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
copyFileSync(join(here, 'styles.css'), join(out, 'app.css'));
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
console.log(`renderer built into ${out}`);
