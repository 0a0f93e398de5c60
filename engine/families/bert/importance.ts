/**
 * Importance profiling (STI §4): one score per (layer, slice) of the full model from real dev-set
 * evaluations, stored as each shard finishes so an interrupted profile resumes where it stopped.
 *   sti:  accuracy with that one shard at high fidelity and every other shard at low fidelity;
 *   drop: accuracy lost when that one shard alone goes to low fidelity, every other shard at high.
 * Higher score = more important, for both.
 */
import { uniformConfiguration, type Configuration } from './configuration.js';
import type { ExperimentStore, ImportanceKey, ImportanceRow } from '../../store/db.js';
import { UserError } from '../../core/errors.js';
import type { AccuracyOracle } from './oracle.js';

export const IMPORTANCE_METHODS = ['sti', 'drop'] as const;
export type ImportanceMethod = (typeof IMPORTANCE_METHODS)[number];

export interface ProfileOptions {
  method: ImportanceMethod;
  layers: number;
  slices: number;
  /** Fidelity of the shard under test (sti) or of the rest (drop). */
  high: number;
  low: number;
  modelChecksum: string;
  onProgress?: (done: number, total: number) => void;
}

export interface Profile {
  method: ImportanceMethod;
  /** Accuracy of the reference configuration: all low (sti) or all high (drop). */
  reference: number;
  scores: ImportanceRow[];
  /** How many shards were evaluated now (the rest came from an earlier, interrupted run). */
  evaluated: number;
}

function withShard(base: Configuration, layer: number, slice: number, bits: number): Configuration {
  const bitsCopy = base.bits.map((row) => row.slice());
  bitsCopy[layer][slice] = bits;
  return { ...base, bits: bitsCopy };
}

export async function profileImportance(oracle: AccuracyOracle, db: ExperimentStore, o: ProfileOptions): Promise<Profile> {
  const key = { model: o.modelChecksum, task: oracle.task, split: oracle.splitKey, method: `${o.method}:${o.high}/${o.low}` };
  const [refBits, probeBits] = o.method === 'sti' ? [o.low, o.high] : [o.high, o.low];
  const base = uniformConfiguration(o.layers, o.slices, refBits);
  const reference = (await oracle.accuracy(base)).accuracy;
  const done = new Set(db.importance(key).map((r) => `${r.layer}/${r.slice}`));
  const total = o.layers * o.slices;
  let evaluated = 0;
  o.onProgress?.(done.size, total);
  for (let l = 0; l < o.layers; l++)
    for (let s = 0; s < o.slices; s++) {
      if (done.has(`${l}/${s}`)) continue;
      const { accuracy } = await oracle.accuracy(withShard(base, l, s, probeBits));
      db.putImportance(key, { layer: l, slice: s, accuracy, score: o.method === 'sti' ? accuracy : reference - accuracy });
      evaluated++;
      done.add(`${l}/${s}`);
      o.onProgress?.(done.size, total);
    }
  return { method: o.method, reference, scores: db.importance(key), evaluated };
}

/** A stored importance profile as an importance[layer][slice] grid, or undefined when it is missing or partial. */
export function storedImportance(db: ExperimentStore, key: ImportanceKey, layers: number, slices: number): number[][] | undefined {
  const rows = db.importance(key);
  if (rows.length < layers * slices) return undefined;
  const grid = Array.from({ length: layers }, () => Array<number>(slices).fill(0));
  for (const r of rows) grid[r.layer][r.slice] = r.score;
  return grid;
}

/** The importance profile ranking planners use unless told otherwise: STI's (one shard at 32 bits, the rest at 2). */
export const DEFAULT_IMPORTANCE = 'sti:32/2';
const SPEC = /^(sti|drop):(\d+)\/(\d+)$/;

export function parseImportance(spec: string, bits: number[]): { method: ImportanceMethod; high: number; low: number } {
  const m = SPEC.exec(spec);
  if (!m) throw new UserError(`importance "${spec}": use METHOD:HIGH/LOW, e.g. ${DEFAULT_IMPORTANCE}`);
  const [high, low] = [Number(m[2]), Number(m[3])];
  for (const b of [high, low])
    if (!bits.includes(b)) throw new UserError(`importance ${spec}: the shard store holds ${bits.join(', ')} bits`);
  return { method: m[1] as ImportanceMethod, high, low };
}

/**
 * The one rule for a planner that ranks shards by importance when the profile is missing (the CLI's
 * plan, sweeps and the workbench's jobs alike): profile it first, on the oracle's split, and store it,
 * so it happens once per model, task and split. Returns the grid and how many shards were evaluated now.
 */
export async function ensureImportance(
  oracle: AccuracyOracle,
  db: ExperimentStore,
  store: { checksum: string; bits: number[]; config: { layers: number; slices: number } },
  spec: string,
  onProgress?: (done: number, total: number) => void,
): Promise<{ grid: number[][]; evaluated: number }> {
  const { layers, slices } = store.config;
  const key = { model: store.checksum, task: oracle.task, split: oracle.splitKey, method: spec };
  const have = storedImportance(db, key, layers, slices);
  if (have) return { grid: have, evaluated: 0 };
  const { method, high, low } = parseImportance(spec, store.bits);
  const p = await profileImportance(oracle, db, { method, layers, slices, high, low, modelChecksum: store.checksum, onProgress });
  return { grid: storedImportance(db, key, layers, slices)!, evaluated: p.evaluated };
}
