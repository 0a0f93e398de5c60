// Builds the renderer: typecheck (tsc -b renderer, incremental) then one esbuild bundle into dist/renderer/.
// Both steps skip work when nothing changed: tsc keeps its build info in dist/, and the bundle is rebuilt
// only when one of its inputs (every file esbuild read last time, listed in its metafile) or this script,
// the page or the stylesheet is newer than the bundle. Deleting dist/ rebuilds everything.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(root, 'dist/renderer');
const meta = join(root, 'dist/renderer.meta.json'); // outside dist/renderer/, which the bridge serves
const bundle = join(out, 'app.js');
const extras = [fileURLToPath(import.meta.url), join(here, 'styles.css'), join(here, 'index.html')];

if (!process.argv.includes('--no-check'))
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', here], { stdio: 'inherit' });

/** True when the bundle exists and no input it was built from (nor this script) changed since. */
function upToDate() {
  if (!existsSync(meta) || !existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  let inputs;
  try {
    inputs = Object.keys(JSON.parse(readFileSync(meta, 'utf8')).inputs).map((p) => resolve(root, p));
  } catch {
    return false;
  }
  return [...inputs, ...extras].every((p) => existsSync(p) && statSync(p).mtimeMs <= built);
}

if (upToDate()) console.log(`renderer up to date in ${out}`);
else {
  mkdirSync(out, { recursive: true });
  const result = await build({
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
    absWorkingDir: root,
    metafile: true,
  });
  writeFileSync(meta, JSON.stringify(result.metafile));
  copyFileSync(join(here, 'styles.css'), join(out, 'app.css'));
  copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
  console.log(`renderer built into ${out}`);
}
