/**
 * What --model (and --shape, verify's directory) accepts: a path to a model directory or shard store, a
 * family's shape preset, or the name of a model bundled in fixtures/models/ (`--model bert-spam`).
 * Shard stores made from a checkpoint are kept by checksum, not by name, so they resolve through the
 * checkpoint that made them.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { BUNDLED_MODELS_DIR, bundledModels } from '../core/paths.js';
import { FAMILIES } from '../families/index.js';

/**
 * The model a --model value names. A bundled model is given as a path relative to the working directory
 * when it lies under it (so a sweep run from the repository stores `fixtures/models/bert-spam`, as its
 * baselines do), else absolute.
 */
export function resolveModel(value: string): string {
  if (existsSync(value) || FAMILIES.some((f) => f.presets.includes(value))) return value;
  const bundled = bundledModels();
  if (bundled.includes(value)) {
    const rel = relative(process.cwd(), join(BUNDLED_MODELS_DIR, value));
    return rel.startsWith('..') || isAbsolute(rel) ? join(BUNDLED_MODELS_DIR, value) : rel;
  }
  // A path: the family registry says what is wrong with it (no such directory, not a model).
  if (value.includes('/') || value.includes(sep)) return value;
  const presets = FAMILIES.flatMap((f) => f.presets);
  throw new InvalidArgumentError(
    `no model "${value}": give a model directory or shard store, a bundled model (${bundled.join(', ') || 'none in fixtures/models'}) or a shape preset (${presets.join(', ')})`,
  );
}
