import { BertModel, checkModelDir, type SessionOptions } from './model.js';
import { isShapePreset } from './presets.js';
import { ensureShapeModel } from './shape-model.js';
import { modelChecksum } from '../../core/checksum.js';
import type { LayerWeights } from './weights.js';
import { uniformConfiguration } from './configuration.js';
import { isShardStore, DEFAULT_BITS, ShardStore, writeStore } from './shard-store.js';
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

/** The shard store of `--model DIR` (see openSharded), without starting a runtime session. */
export function openStore(dir: string, onShardProgress?: (done: number, total: number) => void): ShardStore {
  if (isShapePreset(dir)) dir = ensureShapeModel(dir);
  if (isShardStore(dir)) return ShardStore.open(dir);
  checkModelDir(dir);
  const cache = shardCacheDir(modelChecksum(dir));
  return isShardStore(cache) ? ShardStore.open(cache) : writeStore(dir, cache, DEFAULT_BITS, onShardProgress);
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
