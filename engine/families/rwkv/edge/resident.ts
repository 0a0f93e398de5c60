/**
 * What a setting keeps in memory while it decodes, and the memory over a run: the persistent part is
 * RWKV-edge's accounting (compress/memory.ts) of the weights held, with the FFN neurons and head rows that
 * are read per token taken out (they are transient here: read, decoded, used, freed), plus the embedding
 * cache and the recurrent state; the transient part is the reads in flight and the rows decoded for a
 * token, from the task graph's events.
 */
import { MemoryTracker, type MemoryCategory } from '../../../pipeline/memory.js';
import type { GraphTask } from '../../../pipeline/task-graph.js';
import { CATEGORIES, memoryAccount, type Category } from '../compress/memory.js';
import type { RwkvDims } from '../presets.js';
import type { EdgeSetting, TaskMemory } from './tokens.js';

export interface Resident {
  /** Bytes held per category of RWKV-edge's accounting (embedding: the cache's rows when there is one). */
  byCategory: Record<Category, number>;
  /** Weights held (every category but a cached embedding). */
  weights: number;
  /** The embedding cache's rows. */
  cache: number;
  /** The recurrent state, fp32. */
  state: number;
  total: number;
}

const memo = new WeakMap<EdgeSetting, Map<string, Resident>>();

/** What `setting` holds on a model of shape `dims` (memoised per setting object: planners ask for it per prediction). */
export function residentOf(dims: RwkvDims, setting: EdgeSetting): Resident {
  const key = JSON.stringify(dims);
  let byDims = memo.get(setting);
  if (!byDims) memo.set(setting, (byDims = new Map()));
  let r = byDims.get(key);
  if (!r) byDims.set(key, (r = account(dims, setting)));
  return r;
}

function account(dims: RwkvDims, setting: EdgeSetting): Resident {
  const { spec } = setting;
  const zero = { value: 0, source: 'read per token, not held' };
  const account = memoryAccount(dims, 'fp16', {
    ...(spec.lowrank && { lowrank: { factor: spec.lowrank.factor } }),
    ...(spec.sparseFfn && {
      sparseFfn: { density: zero, predictorBits: spec.sparseFfn.quant?.bits ?? 0, mlpHidden: spec.sparseFfn.mlp ? 64 : 0 },
    }),
    ...(spec.clusterHead && { clusterHead: { clusters: spec.clusterHead.clusters, touched: zero } }),
    ...(spec.embCache && { embCache: { rows: spec.embCache.rows } }),
    ...(spec.int8 && { int8: true }),
  });
  const byCategory = Object.fromEntries(
    CATEGORIES.map((c) => {
      const held = account.byCategory[c].resident;
      // Streamed, the layers and the head are read every token: only the predictors, a cache and a first level stay.
      const keep = !setting.stream || c === 'predictors' || (c === 'embedding' && !!spec.embCache) || (c === 'head' && !!spec.clusterHead);
      return [c, keep ? held : 0];
    }),
  ) as Record<Category, number>;
  const cache = spec.embCache ? byCategory.embedding : 0;
  const weights = CATEGORIES.reduce((a, c) => a + byCategory[c], 0) - cache;
  return { byCategory, weights, cache, state: account.stateBytes, total: weights + cache + account.stateBytes };
}

/** The memory of a run or prediction: persistent as `resident`, transient from the tasks' ends. */
export function memoryOf(resident: Resident, tasks: GraphTask[], ends: number[], memory: Map<number, TaskMemory>): MemoryTracker {
  const m = new MemoryTracker();
  m.hold(resident.weights, 'weights');
  if (resident.cache) m.hold(resident.cache, 'cache');
  m.hold(resident.state, 'state');
  tasks.forEach((_, id) => {
    const mem = memory.get(id);
    if (mem?.read) m.add(ends[id]!, mem.read, 'in-flight');
    const d = mem?.decodes;
    if (d) {
      m.add(ends[id]!, -memory.get(d.read)!.read!, 'in-flight');
      m.add(ends[id]!, d.decodedBytes, 'step-buffers' satisfies MemoryCategory);
      m.add(ends[d.consumer] ?? ends[id]!, -d.decodedBytes, 'step-buffers');
    }
  });
  return m;
}
