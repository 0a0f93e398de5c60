/**
 * The workbench's imported models: checkpoint directories the user opened in Setup, kept by id in
 * imported-models.json in the data directory so they survive a restart. An id is
 * `imported-<name>-<first 8 hex of the checksum>`: a model id like a bundled one (never a path), so the
 * payload schemas stay as they were. A directory that was removed or changed since is reported by name.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseJson, UserError } from '../core/errors.js';
import { modelChecksum } from '../core/checksum.js';
import { dataDir } from '../core/paths.js';
import type { ImportedModelView } from './api.js';

export const IMPORTS_FILE = 'imported-models.json';

const importsPath = () => join(dataDir(), IMPORTS_FILE);

/** The imported models, oldest first; a damaged file is named (and kept as it is), never overwritten. */
export function readImports(): ImportedModelView[] {
  const file = importsPath();
  if (!existsSync(file)) return [];
  const raw = parseJson(readFileSync(file, 'utf8'), file, 'fix it, or move it away to start a new list of imported models') as unknown;
  const list = (raw as { models?: unknown } | null)?.models;
  if (!Array.isArray(list)) throw new UserError(`${file}: expected {"models": [...]}; fix it, or move it away to start a new list`);
  return list as ImportedModelView[];
}

/** Adds (or refreshes, by id) an imported model; written by rename, so a crash leaves the old list. */
export function saveImport(view: ImportedModelView): void {
  const list = readImports().filter((m) => m.id !== view.id);
  list.push(view);
  const file = importsPath();
  mkdirSync(dataDir(), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ models: list }, null, 2) + '\n');
  renameSync(tmp, file);
}

/** `imported-<name>-<hash8>`: the directory's name in kebab case (at most 40 characters) and the checksum's first 8 hex. */
export function importedId(dir: string, checksum: string): string {
  const name =
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40)
      .replace(/-+$/, '') || 'model';
  return `imported-${name}-${checksum.slice(0, 8)}`;
}

/** Why an imported model's directory cannot be used as imported (removed, not a directory, changed), or undefined. */
export function importProblem(m: ImportedModelView): string | undefined {
  if (!existsSync(m.dir) || !statSync(m.dir).isDirectory())
    return `${m.dir} is gone (removed or moved since it was imported as ${m.id}); import it again from Setup`;
  let now: string;
  try {
    now = checksumOf(m.dir);
  } catch (e) {
    if (e instanceof UserError) return `${m.dir} cannot be read as it was imported: ${e.message}; import it again from Setup`;
    throw e;
  }
  if (now !== m.checksum)
    return `${m.dir} changed since it was imported as ${m.id} (its checksum is ${now.slice(0, 8)}, was ${m.checksum.slice(0, 8)}); import it again from Setup`;
  return undefined;
}

/** Checksums by the directory's files' names, sizes and modification times: a multi-GB checkpoint is hashed again only when a file changed. */
const checksums = new Map<string, string>();

function stampOf(dir: string): string {
  return (
    dir +
    '\u0000' +
    readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => {
        const st = statSync(join(dir, d.name));
        return `${d.name}:${st.size}:${st.mtimeMs}`;
      })
      .sort()
      .join('\u0000')
  );
}

/** Keeps a checksum just computed (by opening the directory) for its files as they are now. */
export function rememberChecksum(dir: string, checksum: string): void {
  checksums.set(stampOf(dir), checksum);
}

function checksumOf(dir: string): string {
  const stamp = stampOf(dir);
  let sum = checksums.get(stamp);
  if (sum === undefined) {
    sum = modelChecksum(dir);
    checksums.set(stamp, sum);
  }
  return sum;
}
