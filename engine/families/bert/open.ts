import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../../core/errors.js';
import { BertModel, checkModelDir, type SessionOptions } from './model.js';
import { isShapePreset } from './presets.js';
import { ensureShapeModel } from './shape-model.js';
import { modelChecksum } from '../../core/checksum.js';
import type { LayerWeights } from './weights.js';
import { uniformConfiguration } from './configuration.js';
import { discardStore, isShardStore, DEFAULT_BITS, removeStaleTemps, ShardStore, StoreExists, writeStore } from './shard-store.js';
import { shardCacheDir } from '../../core/paths.js';

export interface OpenedModel {
  model: BertModel;
  store: ShardStore;
}

/**
 * Opens `--model DIR`: a shard store as it is, or a checkpoint directory sharded on first use into the
 * cache (keyed by the checkpoint's checksum, so an edited checkpoint gets a new store). A shape preset
 * name (bert-base, bert-large, distilbert) is made into a shape-only checkpoint first.
 */
export async function openSharded(
  dir: string,
  opts: SessionOptions = {},
  onShardProgress?: (done: number, total: number) => void,
): Promise<OpenedModel> {
  const store = openStore(dir, onShardProgress);
  const model = await BertModel.create(store.dir, store.config, store.base(), opts);
  return { model, store };
}

/**
 * The shard store of `--model DIR` (see openSharded), without starting a runtime session. The cache heals
 * itself: stale temporary folders of killed writers are removed, a damaged or outdated cached store is
 * discarded and made again, and when another writer (a process or a worker) finishes the same store first,
 * its store is used.
 */
export function openStore(dir: string, onShardProgress?: (done: number, total: number) => void): ShardStore {
  if (isShapePreset(dir)) dir = ensureShapeModel(dir);
  if (isShardStore(dir)) return ShardStore.open(dir);
  checkModelDir(dir);
  const cache = shardCacheDir(modelChecksum(dir));
  removeStaleTemps(dirname(cache));
  if (existsSync(cache)) {
    try {
      if (isShardStore(cache)) return ShardStore.open(cache, { cached: true });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
    }
    discardStore(cache);
  }
  try {
    writeStore(dir, cache, DEFAULT_BITS, onShardProgress);
    return ShardStore.open(cache, { cached: true });
  } catch (e) {
    if (e instanceof StoreExists) return ShardStore.open(cache, { cached: true });
    throw e;
  }
}

/** A model to evaluate at full fidelity: a checkpoint's own weights, or a store's highest-fidelity shards. */
export interface EvalModel {
  model: BertModel;
  /** Weights of the first n layers with the first m slices of each. */
  submodel(layers: number, slices: number): LayerWeights[];
  /** Bitwidth the weights come from (32 for a checkpoint). */
  bits: number;
}

export async function openForEval(dir: string, opts: SessionOptions = {}): Promise<EvalModel> {
  if (!isShardStore(dir)) {
    const model = await BertModel.load(dir, opts);
    return { model, bits: 32, submodel: (n, m) => model.submodel(n, m) };
  }
  const store = ShardStore.open(dir);
  const model = await BertModel.create(store.dir, store.config, store.base(), opts);
  const bits = Math.max(...store.bits);
  return {
    model,
    bits,
    submodel: (n, m) => {
      model.checkShape(n, m);
      return store.configurationWeights(uniformConfiguration(n, m, bits));
    },
  };
}
