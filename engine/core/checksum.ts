import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { INDEX_FILE, STAND_INS, weightFilesForChecksum } from './checkpoint-files.js';

/** Files whose bytes define a model: the same checksum means the same computation. */
export const MODEL_DEFINING_FILES = ['config.json', 'model.safetensors', 'tokenizer.json'];
/**
 * What stands for a defining file a checkpoint does not have: a sharded checkpoint's index and shards for
 * model.safetensors, vocab.txt for tokenizer.json (a WordPiece tokenizer built from it).
 */
function definingParts(dir: string, f: string): string[] {
  if (existsSync(join(dir, f))) return [join(dir, f)];
  const standIn = STAND_INS[f]?.find((g) => existsSync(join(dir, g)));
  if (standIn === undefined) return [join(dir, f)];
  return standIn === INDEX_FILE ? weightFilesForChecksum(dir) : [join(dir, standIn)];
}

/** Files that change results where they exist (tokenization settings; the reference a check compares with). */
export const MODEL_OPTIONAL_FILES = ['tokenizer_config.json', 'reference-logits.json'];

export function sha256(data: Buffer | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * sha256 over every file of a checkpoint that affects a result, in a fixed order (hex, first 16 characters).
 * `defining` names the files a family's checkpoints always have (BERT's by default).
 */
export function modelChecksum(dir: string, defining: readonly string[] = MODEL_DEFINING_FILES): string {
  const h = createHash('sha256');
  for (const f of defining)
    for (const path of definingParts(dir, f)) h.update(path === join(dir, f) ? f : basename(path)).update(readFileSync(path));
  for (const f of MODEL_OPTIONAL_FILES) if (existsSync(join(dir, f))) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest('hex').slice(0, 16);
}

/** JSON with every object's keys sorted, at every depth: equal values give equal text (for cache keys). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
