/**
 * The layering of the project's own code (engine/, electron/, renderer/, bench/): no import cycles, and
 * every file imports only the folders its rule allows. Relative imports are read from the source: static
 * (`import … from`, `export … from`, `import '…'`), `import type`, and dynamic `import('…')`.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

/**
 * Who may import what, besides its own folder. A key is a folder (with its subfolders) or a file;
 * `engine/families/*` is each family folder engine/families/<name>/, whose own folder is that family's only.
 * In a list: a folder, a file, `engine/families/**` (family.ts, the registry and every family), `engine/**`
 * (all of engine/, concrete families included), or `type:<file>` (that file through `import type` only).
 */
const BELOW_FAMILIES = ['engine/core', 'engine/shard', 'engine/soc', 'engine/store', 'engine/pipeline', 'engine/eval'];
const REGISTRY = ['engine/families/family.ts', 'engine/families/index.ts'];
const RULES: Record<string, string[]> = {
  'engine/core': [],
  'engine/shard': ['engine/core'],
  'engine/soc': ['engine/core'],
  'engine/store': ['engine/core'],
  'engine/pipeline': ['engine/core', 'engine/shard', 'engine/soc'],
  'engine/eval': ['engine/core', 'engine/store', 'engine/shard', 'engine/soc', 'engine/pipeline'],
  'engine/families/family.ts': BELOW_FAMILIES,
  // A family that sweeps its own way (RWKV) fills in the sweep layer's row types; it reaches nothing else of it.
  'engine/families/*': [...BELOW_FAMILIES, 'engine/families/family.ts', 'type:engine/sweep/rwkv-types.ts'],
  'engine/families/index.ts': ['engine/core', 'engine/families/**'],
  'engine/sweep': [...BELOW_FAMILIES, ...REGISTRY],
  'engine/report': [...BELOW_FAMILIES, ...REGISTRY, 'engine/sweep'],
  'engine/cli': [...BELOW_FAMILIES, ...REGISTRY, 'engine/sweep', 'engine/report'],
  'engine/workbench': [...BELOW_FAMILIES, ...REGISTRY, 'engine/sweep', 'engine/report'],
  electron: [...BELOW_FAMILIES, ...REGISTRY, 'engine/sweep', 'engine/report', 'engine/cli', 'engine/workbench'],
  // The browser client speaks the bridge's wire protocol: its WebSocket auth lives in one import-free module both use.
  // Likewise the one 95 % interval and the one planner palette, which the UI and the HTML report must share.
  renderer: ['type:engine/workbench/api.ts', 'electron/ws-auth.ts', 'engine/eval/interval.ts', 'engine/report/palette.ts'],
  // The sweep bench starts its redis-server with the queue tests' harness rather than a second copy of it.
  bench: ['engine/**', 'test/redis.ts'],
};
const ROOTS = ['engine', 'electron', 'renderer', 'bench'];

// ---- the scanner ----------------------------------------------------------------------------------

const ROOT = fileURLToPath(new URL('../..', import.meta.url)); // tests run from dist/test/
const SOURCE = /\.(ts|tsx|mts|cts)$/;

interface Import {
  from: string;
  line: number;
  spec: string;
  /** The project file it names (root-relative), or null when it names none. */
  to: string | null;
  typeOnly: boolean;
}

/** Comments blanked (newlines kept, so lines still count), strings and code untouched. */
const blankComments = (src: string) =>
  src.replace(/(\/\*[\s\S]*?\*\/|\/\/[^\n]*)|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`/g, (m, comment) =>
    comment ? m.replace(/[^\n]/g, ' ') : m,
  );
const IMPORT = /\b(import|export)\s+(type\s+)?(?:[\w$*{},\s]+?\s+from\s*)?['"]([^'"\n]+)['"]|\bimport\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g;

function importsOf(from: string, src: string): Import[] {
  const code = blankComments(src);
  return [...code.matchAll(IMPORT)]
    .map((m) => ({ spec: m[3] ?? m[4], typeOnly: !!m[2], line: code.slice(0, m.index).split('\n').length }))
    .filter((i) => i.spec.startsWith('.'))
    .map((i) => ({ from, ...i, to: resolve(from, i.spec) }));
}

function resolve(from: string, spec: string): string | null {
  const base = posix.join(posix.dirname(from), spec);
  const stem = base.replace(/\.([mc]?)js$/, '');
  const ext = base.match(/\.([mc]?)js$/)?.[1] ?? '';
  const candidates = [base, `${stem}.${ext}ts`, `${stem}.tsx`, `${base}/index.ts`, `${base}/index.tsx`];
  return candidates.find((c) => existsSync(posix.join(ROOT, c)) && statSync(posix.join(ROOT, c)).isFile()) ?? null;
}

const files = ROOTS.flatMap((r) =>
  readdirSync(posix.join(ROOT, r), { recursive: true, encoding: 'utf8' })
    .map((f) => posix.join(r, f.split('\\').join('/')))
    .filter((f) => SOURCE.test(f) && !f.endsWith('.d.ts') && !/(^|\/)(node_modules|dist)\//.test(f)),
).sort();
const imports = files.flatMap((f) => importsOf(f, readFileSync(posix.join(ROOT, f), 'utf8')));

// ---- the rules ------------------------------------------------------------------------------------

/** The rule a file falls under and the folder (or file) that is its own, or undefined when no rule covers it. */
function ruleOf(file: string): { key: string; own: string } | undefined {
  if (RULES[file]) return { key: file, own: file };
  const family = file.match(/^engine\/families\/[^/]+(?=\/)/)?.[0];
  if (family) return { key: 'engine/families/*', own: family };
  const key = Object.keys(RULES)
    .filter((k) => !k.endsWith('.ts') && file.startsWith(`${k}/`))
    .sort((a, b) => b.length - a.length)[0];
  return key ? { key, own: key } : undefined;
}

const within = (file: string, entry: string) =>
  entry.endsWith('/**') ? file.startsWith(entry.slice(0, -2)) : entry.endsWith('.ts') ? file === entry : file.startsWith(`${entry}/`);

function allowed(i: Import): boolean {
  const rule = ruleOf(i.from)!;
  const to = i.to!;
  if (to === rule.own || to.startsWith(`${rule.own}/`)) return true;
  return RULES[rule.key].some((e) => (e.startsWith('type:') ? i.typeOnly && to === e.slice(5) : within(to, e)));
}

/** What an imported file is, for the report: its family folder, its rule's folder or file, or itself. */
const place = (file: string) => ruleOf(file)?.own ?? file;

/** The broken rules of the files under `top`, grouped by rule and imported place, one import a line. */
function violations(top: string): string[] {
  const mine = (f: string) => f === top || f.startsWith(`${top}/`);
  const out: string[] = files.filter((f) => mine(f) && !ruleOf(f)).map((f) => `${f}: no rule in RULES covers this file`);
  const groups = new Map<string, string[]>();
  for (const i of imports.filter((x) => mine(x.from))) {
    if (!ruleOf(i.from)) continue;
    const head = i.to ? `${ruleOf(i.from)!.own} may not import ${place(i.to)}` : 'relative imports of no project file';
    if (i.to && allowed(i)) continue;
    const kind = i.typeOnly ? ' (import type)' : '';
    groups.set(head, [...(groups.get(head) ?? []), `    ${i.from}:${i.line} → ${i.to ?? i.spec}${kind}`]);
  }
  for (const [head, lines] of [...groups].sort()) out.push(`${head}:`, ...lines);
  return out;
}

/** Each import cycle: the files of a strongly connected component, and one shortest loop through it. */
function cycles(): string[] {
  const next = new Map(files.map((f) => [f, [...new Set(imports.filter((i) => i.from === f && i.to && i.to !== f).map((i) => i.to!))]]));
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const out: string[] = [];
  const strong = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc = stack.splice(stack.indexOf(v)).sort();
    if (scc.length < 2) return;
    // Breadth-first from the first file back to itself, inside the component.
    const start = scc[0];
    const via = new Map<string, string>();
    const queue = [start];
    while (queue.length && !via.has(start)) {
      const a = queue.shift()!;
      for (const b of next.get(a)!)
        if (scc.includes(b) && !via.has(b)) {
          via.set(b, a);
          queue.push(b);
        }
    }
    const loop = [start];
    for (let f = via.get(start)!; f !== start; f = via.get(f)!) loop.unshift(f);
    out.push(`cycle of ${scc.length}: ${scc.join(', ')}`, `    for one: ${[start, ...loop].join(' → ')}`);
  };
  for (const f of files) if (!index.has(f)) strong(f);
  return out;
}

// ---- the tests ------------------------------------------------------------------------------------

describe('layers', () => {
  test('the scanner reads every kind of relative import, and nothing in comments', () => {
    const src = [
      "import { a, type B } from './a.js';",
      "import type { C } from '../engine/workbench/api.js';",
      "export * from './b.js';",
      "export type { D } from './c.js';",
      "import './side.js';",
      "const m = await import('./lazy.js');",
      "// import { x } from './commented.js';",
      "/* import { y } from './commented.js'; */ import {",
      '  z,',
      "} from './multi.js';",
      "const u = 'http://example.com/*'; import q from './after-url.js'; import r from 'node:fs';",
    ].join('\n');
    const got = importsOf('renderer/x.ts', src).map((i) => `${i.line} ${i.spec}${i.typeOnly ? ' type' : ''}`);
    assert.deepEqual(got, [
      '1 ./a.js',
      '2 ../engine/workbench/api.js type',
      '3 ./b.js',
      '4 ./c.js type',
      '5 ./side.js',
      '6 ./lazy.js',
      '8 ./multi.js',
      '11 ./after-url.js',
    ]);
    assert.ok(files.length > 50, `only ${files.length} files found under ${ROOTS.join(', ')}`);
    assert.ok(imports.some((i) => i.from === 'renderer/src/main.tsx' && i.to === 'renderer/src/App.tsx'));
    assert.ok(imports.some((i) => i.from === 'electron/preload.cts' && i.to === 'engine/workbench/api.ts' && i.typeOnly));
  });

  test('no import cycles', () => {
    const found = cycles();
    if (found.length) assert.fail(`import cycles:\n${found.join('\n')}`);
  });

  for (const top of ROOTS)
    test(`${top}/ imports only what RULES allows`, () => {
      const found = violations(top);
      const count = found.filter((l) => l.startsWith(' ') || l.includes(': no rule')).length;
      if (found.length) assert.fail(`${top}/ breaks the layering in ${count} places:\n${found.join('\n')}`);
    });
});

/** Every project file `start` loads at run time (relative imports that are not type-only), itself included. */
function runtimeClosure(start: string): Set<string> {
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length) {
    const f = queue.pop()!;
    for (const i of imports)
      if (i.from === f && !i.typeOnly && i.to && !seen.has(i.to)) {
        seen.add(i.to);
        queue.push(i.to);
      }
  }
  return seen;
}

test("Electron's processes (main, preload) load no native module: the engine runs in a Node process (issue 19)", () => {
  const loaded = new Set([...runtimeClosure('electron/main.ts'), ...runtimeClosure('electron/preload.cts')]);
  assert.ok(loaded.has('electron/app.ts'));
  assert.ok(loaded.has('electron/engine-client.ts'));
  const BARE =
    /\b(?:import|export)\s+(?!type\s)(?:[\w$*{},\s]+?\s+from\s*)?['"]([^'".][^'"\n]*)['"]|\bimport\s*\(\s*['"]([^'".][^'"\n]*)['"]\s*\)/g;
  const native = [...loaded].flatMap((f) =>
    [...blankComments(readFileSync(posix.join(ROOT, f), 'utf8')).matchAll(BARE)]
      .map((m) => m[1] ?? m[2])
      .filter((spec) => /^(better-sqlite3|onnxruntime-node)(\/|$)/.test(spec))
      .map((spec) => `${f} imports ${spec}`),
  );
  assert.deepEqual(native, []);
  for (const f of ['engine/workbench/host.ts', 'engine/workbench/service.ts', 'engine/workbench/worker.ts', 'engine/store/db.ts'])
    assert.ok(!loaded.has(f), `electron/main.ts loads ${f} at run time`);
});
