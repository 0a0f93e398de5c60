/** Reads a regression baseline: a report's JSON export (spec + rows), checked before anything runs. */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { parseJson, shown, UserError } from '../core/errors.js';
import { FAMILIES } from '../families/index.js';
import type { Baseline } from './regress.js';
import type { RwkvBaseline } from './rwkv-regress.js';
import { isRwkvSpec } from './rwkv-types.js';

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
  return parseBaseline(readBaselineJson(file), file);
}

/** A baseline of either kind: a BERT sweep's, or an RWKV sweep's (its spec says "family": "rwkv"). */
export type AnyBaseline = { family: 'bert'; baseline: Baseline } | { family: 'rwkv'; baseline: RwkvBaseline };

export function readAnyBaseline(file: string): AnyBaseline {
  return parseAnyBaseline(readBaselineJson(file), file);
}

export function parseAnyBaseline(raw: unknown, file: string): AnyBaseline {
  const spec = raw !== null && typeof raw === 'object' ? (raw as { spec?: unknown }).spec : undefined;
  return isRwkvSpec(spec)
    ? { family: 'rwkv', baseline: parseRwkvBaseline(raw, file) }
    : { family: 'bert', baseline: parseBaseline(raw, file) };
}

function readBaselineJson(file: string): unknown {
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
  return parseJson(text, file, HINT);
}

/** Checks a baseline already parsed from JSON; `file` names it in the one-line error. */
export function parseBaseline(raw: unknown, file: string): Baseline {
  return checked(BaselineFile, raw, file);
}

function checked<T>(schema: z.ZodType<T>, raw: unknown, file: string): T {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    const got = valueAt(raw, i.path);
    const value = got === undefined || (typeof got === 'object' && got !== null) ? '' : ` (got ${shown(got)})`;
    throw new UserError(`${file}: not a sweep baseline: ${i.path.map(String).join('.') || '(top)'}: ${i.message}${value}; ${HINT}`);
  }
  return r.data;
}

/** Bounds of an RWKV baseline (the committed one has 3 SoCs x 3 budgets x a few settings). */
const RWKV_LIMITS = { socs: 64, budgets: 1_000, targets: 1_000, settings: 64, rows: 100_000 } as const;

const finite = z.number().finite();
const RwkvSpec = z.object({
  family: z.literal('rwkv'),
  model: z
    .string()
    .min(1)
    .max(4096)
    .refine((m) => !isPreset(m), {
      message: 'must be a model directory, not a shape preset (its random weights have no quality to regress)',
    }),
  socs: z.array(name).min(1).max(RWKV_LIMITS.socs),
  memoryMiB: z.array(z.number().positive().max(1e7)).min(1).max(RWKV_LIMITS.budgets),
  tokenMs: z.array(z.number().positive().max(1e7)).max(RWKV_LIMITS.targets),
  settings: z.array(name).min(1).max(RWKV_LIMITS.settings),
  split: z.enum(['dev', 'test']),
  limit: z.number().int().positive().max(1_000_000),
  measure: z.boolean(),
  runTokens: z.number().int().nonnegative().max(100_000),
  prompt: z.string().min(1).max(10_000),
});

const RwkvRun = z.object({
  tokens: z.number().int().nonnegative(),
  tokensPerSecond: finite,
  tokenMsP50: finite,
  firstTokenMs: finite,
  stallMs: finite,
  makespanMs: finite,
  ioBytesPerToken: finite,
  persistentBytes: finite,
  peakBytes: finite,
  text: z.string().max(1_000_000),
});

const RwkvRow = z.object({
  soc: name,
  setting: name,
  memoryMiB: finite,
  tokenMsTarget: finite,
  pick: z.string().max(1000).optional(),
  why: z.string().max(10_000).optional(),
  optimum: z.string().max(1000).optional(),
  optimumPerplexity: finite.optional(),
  fits: z.boolean(),
  tokensPerSecond: finite,
  tokenMs: finite,
  firstTokenMs: finite,
  stallMsPerToken: finite,
  ioBytesPerToken: finite,
  persistentBytes: finite,
  peakBytes: finite,
  perplexity: finite.optional(),
  lastWordAccuracy: finite.optional(),
  qualityTokens: z.number().int().nonnegative().optional(),
  run: RwkvRun.optional(),
  settingHash: z.string().max(200),
});

const RwkvBaselineFile = z
  .object({ spec: RwkvSpec, modelChecksum: z.string().max(200), rows: z.array(RwkvRow).min(1).max(RWKV_LIMITS.rows) })
  .superRefine((b, ctx) => {
    const s = b.spec;
    const runs = s.socs.length * s.memoryMiB.length * s.settings.length * Math.max(1, s.tokenMs.length);
    if (runs > RWKV_LIMITS.rows)
      ctx.addIssue({
        code: 'custom',
        path: ['spec'],
        message: `${runs} combinations of SoC, budget, setting and target; at most ${RWKV_LIMITS.rows}`,
      });
    else if (b.rows.length > runs)
      ctx.addIssue({ code: 'custom', path: ['rows'], message: `${b.rows.length} rows, more than the spec's ${runs} combinations` });
  });

/** Checks an RWKV sweep baseline already parsed from JSON. */
export function parseRwkvBaseline(raw: unknown, file: string): RwkvBaseline {
  return checked(RwkvBaselineFile, raw, file);
}
