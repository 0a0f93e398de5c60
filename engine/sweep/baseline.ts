/** Reads a regression baseline: a report's JSON export (spec + rows), checked before anything runs. */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import type { Baseline } from './regress.js';

const Spec = z.object({
  model: z.string(),
  socs: z.array(z.string()).min(1),
  targetsMs: z.array(z.number().positive()).min(1),
  buffersKb: z.array(z.number().nonnegative()).min(1),
  planners: z.array(z.string()).min(1),
  split: z.enum(['dev', 'test']),
  limit: z.number().int().positive().optional(),
  importance: z.string(),
  seq: z.number().int().positive(),
});

const Row = z.object({
  soc: z.string(),
  planner: z.string(),
  targetMs: z.number(),
  bufferKb: z.number(),
  layers: z.number().int(),
  slices: z.number().int(),
  accuracy: z.number(),
  makespanMs: z.number(),
  stallMs: z.number(),
  persistentBytes: z.number(),
  peakBytes: z.number(),
  deadlineMet: z.boolean(),
  withinBudget: z.boolean(),
  configHash: z.string(),
  surrogate: z.number(),
  shards: z.array(z.object({ layer: z.number(), slice: z.number(), bits: z.number(), preload: z.boolean() })),
});

const BaselineFile = z.object({ spec: Spec, modelChecksum: z.string(), rows: z.array(Row).min(1) });

export function readBaseline(file: string): Baseline {
  if (!existsSync(file)) throw new UserError(`${file}: no such baseline file; pass a report's JSON export or a sweep id`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not JSON (${(e as Error).message}); pass \`shardlab report ID --format json\` output`);
  }
  const r = BaselineFile.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UserError(
      `${file}: not a sweep baseline: ${i.path.join('.') || '(top)'}: ${i.message}; pass \`shardlab report ID --format json\` output`,
    );
  }
  return r.data;
}
