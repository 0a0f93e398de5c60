import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where shardlab keeps its data: $SHARDLAB_HOME, else $XDG_DATA_HOME/shardlab, else ~/.local/share/shardlab. */
export function dataDir(): string {
  if (process.env.SHARDLAB_HOME) return process.env.SHARDLAB_HOME;
  return join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'shardlab');
}

export function defaultDbPath(): string {
  return join(dataDir(), 'experiments.db');
}

/**
 * Where what shardlab makes from a model lives (shard stores, RWKV-edge layouts, shape-only checkpoints):
 * $SHARDLAB_CACHE, else the data directory. Everything in it is keyed by what it was made from and written
 * by rename, so several data directories (or users, or test processes) can share one.
 */
export function cacheDir(): string {
  return process.env.SHARDLAB_CACHE || dataDir();
}

/** Shard stores made on first use from a checkpoint, keyed by the checkpoint's checksum. */
export function shardCacheDir(checksum: string): string {
  return join(cacheDir(), 'shards', checksum);
}

/** The models bundled with shardlab: fixtures/models/ at the repository root (found from dist/engine/core/). */
export const BUNDLED_MODELS_DIR = fileURLToPath(new URL('../../../fixtures/models/', import.meta.url));

/** The bundled models by name: the directories of BUNDLED_MODELS_DIR that hold a config.json, sorted. */
export function bundledModels(): string[] {
  if (!existsSync(BUNDLED_MODELS_DIR)) return [];
  return readdirSync(BUNDLED_MODELS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(BUNDLED_MODELS_DIR, d.name, 'config.json')))
    .map((d) => d.name)
    .sort();
}
