/**
 * Engine defaults that the help text shows. They are copied here because the modules that own them
 * (families/bert/shard-store.ts, sweep/regress.ts) load onnxruntime, SQLite and the sweep when imported,
 * which every command's start (and --help) would pay; test/cli-help.test.ts checks each copy against its owner.
 */
import type { Tolerance } from '../sweep/regress.js';

/** The bitwidths a shard store holds by default: shard-store.ts DEFAULT_BITS. */
export const DEFAULT_BITS: readonly number[] = [2, 3, 4, 5, 6, 32];

/** regress's tolerance: sweep/regress.ts DEFAULT_TOLERANCE. */
export const DEFAULT_TOLERANCE: Readonly<Tolerance> = { accuracy: 0.005, makespan: 0.01, memory: 0.01 };

/** The importance profile ranking planners use when none is named (plan, run --planner, sweep). */
export const DEFAULT_IMPORTANCE = 'sti:32/2';
