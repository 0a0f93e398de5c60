/**
 * Loading SoC profiles: the bundled ones in the repository's socs/ and the user's own in
 * <data dir>/socs/ (where the workbench saves edited copies). A profile that does not validate stops
 * the load with one line naming the file, the field and the problem.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { parseJson, shown as showValue, UserError } from '../core/errors.js';
import { dataDir } from '../core/paths.js';
import { SocProfileSchema, type SocProfile } from './profile.js';

/** socs/ at the repository root, found from the compiled file (dist/engine/soc/load.js). */
export const BUNDLED_SOCS_DIR = fileURLToPath(new URL('../../../socs/', import.meta.url));

/** Where user profiles live: <data dir>/socs/. */
export function userSocsDir(): string {
  return join(dataDir(), 'socs');
}

export interface SocProfileFile {
  profile: SocProfile;
  file: string;
  bundled: boolean;
}

type Path = readonly PropertyKey[];

function formatPath(path: Path): string {
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '') || '(top level)';
}

function valueAt(raw: unknown, path: Path): unknown {
  let v = raw;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** One issue as `path: reason`, in words a person editing the JSON can act on. */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const got = valueAt(raw, issue.path);
  const shown = got === undefined ? '' : `, got ${showValue(got)}`;
  switch (issue.code) {
    case 'unrecognized_keys':
      return (
        `${formatPath([...issue.path, issue.keys[0]])}: unknown field` +
        (issue.keys.length > 1 ? ` (also ${issue.keys.slice(1).join(', ')})` : '')
      );
    case 'invalid_type':
      if (got === undefined) return `${formatPath(issue.path)}: missing (expected ${issue.expected})`;
      return `${formatPath(issue.path)}: expected ${issue.expected}${shown}`;
    case 'too_small':
      return `${formatPath(issue.path)}: must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}${shown}`;
    case 'too_big':
      return `${formatPath(issue.path)}: must be at most ${issue.maximum}${shown}`;
    case 'invalid_value':
      return `${formatPath(issue.path)}: must be one of ${issue.values.join(', ')}${shown}`;
    default:
      return `${formatPath(issue.path)}: ${issue.message.replace(/\s+/g, ' ')}`;
  }
}

/** Validates one profile; `file` is only used in the message. */
export function parseSocProfile(raw: unknown, file: string): SocProfile {
  const parsed = SocProfileSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const [first, ...rest] = parsed.error.issues;
  const more = rest.length ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  throw new UserError(`${file}: ${describeIssue(first, raw)}${more}`);
}

function readProfileFile(file: string, bundled: boolean): SocProfileFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const raw = parseJson(text, file);
  const profile = parseSocProfile(raw, file);
  const expected = basename(file, '.json');
  if (profile.id !== expected)
    throw new UserError(`${file}: id: "${profile.id}" does not match the file name; name the file ${profile.id}.json`);
  return { profile, file, bundled };
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Every profile with the file it came from, sorted by id: the bundled ones in `dir`, then the user's in
 * `userDir` (skipped when null or absent). A user profile may not take a bundled profile's id.
 */
export function loadSocProfileFiles(dir: string = BUNDLED_SOCS_DIR, userDir: string | null = userSocsDir()): SocProfileFile[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: no such directory of SoC profiles`);
  const entries = jsonFiles(dir).map((f) => readProfileFile(f, true));
  if (userDir && existsSync(userDir) && statSync(userDir).isDirectory())
    entries.push(...jsonFiles(userDir).map((f) => readProfileFile(f, false)));
  const byId = new Map<string, SocProfileFile>();
  for (const e of entries) {
    // File names match ids, so a clash is always a user profile taking a bundled one's id.
    const other = byId.get(e.profile.id);
    if (other)
      throw new UserError(`${e.file}: id: "${e.profile.id}" is a bundled profile (${other.file}); give your copy a new id and file name`);
    byId.set(e.profile.id, e);
  }
  return [...byId.values()].sort((a, b) => a.profile.id.localeCompare(b.profile.id));
}

/** All profiles, sorted by id (see loadSocProfileFiles). */
export function loadSocProfiles(dir?: string, userDir?: string | null): SocProfile[] {
  return loadSocProfileFiles(dir, userDir).map((e) => e.profile);
}

export function getSocProfile(id: string, profiles: SocProfile[] = loadSocProfiles()): SocProfile {
  const p = profiles.find((x) => x.id === id);
  if (!p) throw new UserError(`unknown SoC profile "${id}"; known ids: ${profiles.map((x) => x.id).join(', ')}`);
  return p;
}
