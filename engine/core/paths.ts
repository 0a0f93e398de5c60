import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where shardlab keeps its data: $SHARDLAB_HOME, else $XDG_DATA_HOME/shardlab, else ~/.local/share/shardlab. */
export function dataDir(): string {
  if (process.env.SHARDLAB_HOME) return process.env.SHARDLAB_HOME;
  return join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'shardlab');
}

export function defaultDbPath(): string {
  return join(dataDir(), 'experiments.db');
}

/** Shard stores made on first use from a checkpoint, keyed by the checkpoint's checksum. */
export function shardCacheDir(checksum: string): string {
  return join(dataDir(), 'shards', checksum);
}
