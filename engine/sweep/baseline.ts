/** Reads a regression baseline: a report's JSON export (spec + rows), checked before anything runs. */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { parseJson, shown, UserError } from '../core/errors.js';
import { FAMILIES } from '../families/index.js';
import type { Baseline } from './regress.js';

/**
 * Bounds of a baseline: generous for a real sweep (the committed ones have 2 SoCs x 3 targets x 10
 * planners), small enough that a damaged or hostile file cannot start an endless re-run.
 */
export const BASELINE_LIMITS = { socs: 64, targets: 1_000, buffers: 1_000, planners: 256, rows: 100_000, shards: 1 << 20 } as const;

const HINT = 'pass `shardlab report ID --format json` output';
const name = z.string().min(1).max(200);
const isPreset = (m: string) => FAMILIES.some((f) => f.presets.includes(m));

const Spec = z.object({
  model: z
    .string()
    .min(1)
    .max(4096)
    .refine((m) => !isPreset(m), {
      message: 'must be a model directory or shard store, not a shape preset (its random weights have no accuracy to regress)',
    }),
  socs: z.array(name).min(1).max(BASELINE_LIMITS.socs),
  targetsMs: z.array(z.number().positive().max(1e7)).min(1).max(BASELINE_LIMITS.targets),
  buffersKb: z.array(z.number().nonnegative().max(1e9)).min(1).max(BASELINE_LIMITS.buffers),
  planners: z.array(name).min(1).max(BASELINE_LIMITS.planners),
  split: z.enum(['dev', 'test']),
  limit: z.number().int().positive().max(10_000_000).optional(),
  importance: z.string().max(200),
  seq: z.number().int().positive().max(65_536),
});

const Row = z.object({
  soc: name,
  planner: name,
  targetMs: z.number(),
  bufferKb: z.number(),
  layers: z.number().int().nonnegative().max(1_000_000),
  slices: z.number().int().nonnegative().max(1_000_000),
  accuracy: z.number(),
  examples: z.number().int().positive().optional(),
  makespanMs: z.number(),
  stallMs: z.number(),
  persistentBytes: z.number(),
  peakBytes: z.number(),
  deadlineMet: z.boolean(),
  withinBudget: z.boolean(),
  configHash: z.string().max(200),
  surrogate: z.number(),
  shards: z
    .array(
      z.object({
        layer: z.number().int().nonnegative(),
        slice: z.number().int().nonnegative(),
        bits: z.number().int().positive(),
        preload: z.boolean(),
      }),
    )
    .max(BASELINE_LIMITS.shards),
});

const BaselineFile = z
  .object({ spec: Spec, modelChecksum: z.string().max(200), rows: z.array(Row).min(1).max(BASELINE_LIMITS.rows) })
  .superRefine((b, ctx) => {
    const s = b.spec;
    const runs = s.socs.length * s.targetsMs.length * s.buffersKb.length * s.planners.length;
    if (runs > BASELINE_LIMITS.rows)
      ctx.addIssue({
        code: 'custom',
        path: ['spec'],
        message: `${runs} combinations of SoC, target, buffer and planner; at most ${BASELINE_LIMITS.rows}`,
      });
    else if (b.rows.length > runs)
      ctx.addIssue({ code: 'custom', path: ['rows'], message: `${b.rows.length} rows, more than the spec's ${runs} combinations` });
  });

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

export function readBaseline(file: string): Baseline {
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new UserError(`${file}: not a file; ${HINT} or a sweep id`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${file}: no such baseline file; pass a report's JSON export or a sweep id`);
    throw new UserError(`${file}: cannot read the baseline (${code ?? (e as Error).message})`);
  }
  return parseBaseline(parseJson(text, file, HINT), file);
}

/** Checks a baseline already parsed from JSON; `file` names it in the one-line error. */
export function parseBaseline(raw: unknown, file: string): Baseline {
  const r = BaselineFile.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    const got = valueAt(raw, i.path);
    const value = got === undefined || (typeof got === 'object' && got !== null) ? '' : ` (got ${shown(got)})`;
    throw new UserError(`${file}: not a sweep baseline: ${i.path.map(String).join('.') || '(top)'}: ${i.message}${value}; ${HINT}`);
  }
  return r.data;
}
