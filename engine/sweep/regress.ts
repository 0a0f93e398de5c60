/**
 * Regression against a baseline sweep: re-run its spec and compare row by row, keyed by (SoC, planner,
 * target, buffer). A row regresses when its accuracy, makespan or persistent memory moved beyond the
 * tolerance, its deadline verdict flipped, its plan's configuration changed, or it is missing.
 */
import type { ExperimentStore } from '../store/db.js';
import { runSweep, type SweepOptions } from './sweep.js';
import { textTable } from './table.js';
import type { Sweep, SweepRow, SweepSpec } from './types.js';

export interface Tolerance {
  /** Absolute accuracy change allowed, as a fraction (0.005 = half a point). */
  accuracy: number;
  /** Relative makespan change allowed. */
  makespan: number;
  /** Relative persistent-memory change allowed. */
  memory: number;
  /** Relative perplexity change allowed (RWKV sweeps; rwkv-regress.ts's default when not given). */
  perplexity?: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { accuracy: 0.005, makespan: 0.01, memory: 0.01 };

export type DiffField = 'accuracy' | 'makespanMs' | 'persistentBytes' | 'deadlineMet' | 'configuration' | 'row';

export interface Diff {
  soc: string;
  planner: string;
  targetMs: number;
  bufferKb: number;
  field: DiffField;
  baseline: string;
  current: string;
}

/** What a baseline needs: the spec to re-run and the rows to hold it to (a report's JSON export has both). */
export interface Baseline {
  spec: SweepSpec;
  modelChecksum: string;
  rows: Omit<SweepRow, 'events'>[];
}

const keyOf = (r: Pick<SweepRow, 'soc' | 'planner' | 'targetMs' | 'bufferKb'>) => `${r.soc}|${r.planner}|${r.targetMs}|${r.bufferKb}`;
const rel = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12));

export function compareRows(baseline: Baseline['rows'], current: Baseline['rows'], tol: Tolerance): Diff[] {
  const now = new Map(current.map((r) => [keyOf(r), r]));
  const diffs: Diff[] = [];
  for (const b of baseline) {
    const c = now.get(keyOf(b));
    const d = (field: DiffField, base: string, cur: string) =>
      diffs.push({ soc: b.soc, planner: b.planner, targetMs: b.targetMs, bufferKb: b.bufferKb, field, baseline: base, current: cur });
    if (!c) {
      d('row', 'present', 'missing');
      continue;
    }
    if (Math.abs(c.accuracy - b.accuracy) > tol.accuracy) d('accuracy', pct(b.accuracy), pct(c.accuracy));
    if (rel(c.makespanMs, b.makespanMs) > tol.makespan) d('makespanMs', b.makespanMs.toFixed(2), c.makespanMs.toFixed(2));
    if (rel(c.persistentBytes, b.persistentBytes) > tol.memory) d('persistentBytes', String(b.persistentBytes), String(c.persistentBytes));
    if (c.deadlineMet !== b.deadlineMet) d('deadlineMet', String(b.deadlineMet), String(c.deadlineMet));
    if (c.configHash !== b.configHash) d('configuration', b.configHash, c.configHash);
  }
  return diffs;
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

export interface RegressResult {
  current: Sweep;
  diffs: Diff[];
}

export async function regress(
  baseline: Baseline,
  db: ExperimentStore,
  tol: Tolerance = DEFAULT_TOLERANCE,
  o: SweepOptions & { model?: string } = {},
): Promise<RegressResult> {
  const spec = o.model ? { ...baseline.spec, model: o.model } : baseline.spec;
  const current = await runSweep(spec, db, o);
  return { current, diffs: compareRows(baseline.rows, current.rows, tol) };
}

export function diffTable(diffs: Diff[]): string {
  const head = ['soc', 'planner', 'target ms', 'buffer KB', 'field', 'baseline', 'now'];
  const body = diffs.map((d) => [d.soc, d.planner, String(d.targetMs), String(d.bufferKb), d.field, d.baseline, d.current]);
  return textTable(head, body);
}
