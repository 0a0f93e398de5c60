/**
 * Regression of an RWKV sweep against a baseline: re-run its spec and compare row by row, keyed by (SoC,
 * setting, memory budget, token-latency target). A row regresses when it is missing, its fit flipped, the
 * planner picked another setting, a predicted or really-run time moved beyond the makespan tolerance, a
 * memory figure beyond the memory tolerance, perplexity beyond the perplexity tolerance (relative),
 * last-word accuracy beyond the accuracy tolerance (absolute), or the real run generated other text.
 */
import type { ExperimentStore } from '../store/db.js';
import { rwkvSweeps } from './rwkv.js';
import type { RwkvSweep, RwkvSweepOptions, RwkvSweepRow, RwkvSweepSpec } from './rwkv-types.js';
import type { Tolerance } from './regress.js';
import { textTable } from './table.js';

/** Relative perplexity change allowed when the tolerance does not name one. */
export const DEFAULT_PERPLEXITY_TOLERANCE = 0.01;

export interface RwkvBaseline {
  spec: RwkvSweepSpec;
  modelChecksum: string;
  rows: RwkvSweepRow[];
}

export interface RwkvDiff {
  soc: string;
  setting: string;
  memoryMiB: number;
  tokenMsTarget: number;
  field: string;
  baseline: string;
  current: string;
}

const keyOf = (r: Pick<RwkvSweepRow, 'soc' | 'setting' | 'memoryMiB' | 'tokenMsTarget'>) =>
  `${r.soc}|${r.setting}|${r.memoryMiB}|${r.tokenMsTarget}`;
const rel = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12));
const num = (x: number | undefined, digits = 3) => (x === undefined ? 'none' : Number(x.toPrecision(digits + 3)).toString());

export function compareRwkvRows(baseline: RwkvSweepRow[], current: RwkvSweepRow[], tol: Tolerance): RwkvDiff[] {
  const now = new Map(current.map((r) => [keyOf(r), r]));
  const diffs: RwkvDiff[] = [];
  for (const b of baseline) {
    const c = now.get(keyOf(b));
    const d = (field: string, base: string, cur: string) =>
      diffs.push({
        soc: b.soc,
        setting: b.setting,
        memoryMiB: b.memoryMiB,
        tokenMsTarget: b.tokenMsTarget,
        field,
        baseline: base,
        current: cur,
      });
    if (!c) {
      d('row', 'present', 'missing');
      continue;
    }
    if (c.fits !== b.fits) d('fits', String(b.fits), String(c.fits));
    if ((c.pick ?? '') !== (b.pick ?? '')) d('pick', b.pick ?? 'none', c.pick ?? 'none');
    if ((c.optimum ?? '') !== (b.optimum ?? '')) d('optimum', b.optimum ?? 'none', c.optimum ?? 'none');
    if (c.settingHash !== b.settingHash) d('configuration', b.settingHash || 'none', c.settingHash || 'none');
    for (const k of ['tokenMs', 'firstTokenMs'] as const) if (rel(c[k], b[k]) > tol.makespan) d(k, num(b[k]), num(c[k]));
    for (const k of ['persistentBytes', 'peakBytes', 'ioBytesPerToken'] as const)
      if (rel(c[k], b[k]) > tol.memory) d(k, String(b[k]), String(c[k]));
    if ((b.perplexity === undefined) !== (c.perplexity === undefined)) d('perplexity', num(b.perplexity), num(c.perplexity));
    else if (b.perplexity !== undefined && rel(c.perplexity!, b.perplexity) > (tol.perplexity ?? DEFAULT_PERPLEXITY_TOLERANCE))
      d('perplexity', num(b.perplexity), num(c.perplexity));
    if ((b.lastWordAccuracy === undefined) !== (c.lastWordAccuracy === undefined))
      d('lastWordAccuracy', num(b.lastWordAccuracy), num(c.lastWordAccuracy));
    else if (b.lastWordAccuracy !== undefined && Math.abs(c.lastWordAccuracy! - b.lastWordAccuracy) > tol.accuracy)
      d('lastWordAccuracy', num(b.lastWordAccuracy), num(c.lastWordAccuracy));
    if (b.run && !c.run) d('run', 'present', 'missing');
    else if (b.run && c.run) {
      for (const k of ['tokenMsP50', 'firstTokenMs', 'makespanMs'] as const)
        if (rel(c.run[k], b.run[k]) > tol.makespan) d(`run.${k}`, num(b.run[k]), num(c.run[k]));
      for (const k of ['persistentBytes', 'peakBytes', 'ioBytesPerToken'] as const)
        if (rel(c.run[k], b.run[k]) > tol.memory) d(`run.${k}`, String(b.run[k]), String(c.run[k]));
      if (c.run.text !== b.run.text) d('run.text', JSON.stringify(b.run.text), JSON.stringify(c.run.text));
    }
  }
  return diffs;
}

export async function regressRwkv(
  baseline: RwkvBaseline,
  db: ExperimentStore,
  tol: Tolerance,
  o: RwkvSweepOptions & { model?: string } = {},
): Promise<{ current: RwkvSweep; diffs: RwkvDiff[] }> {
  const spec = o.model ? { ...baseline.spec, model: o.model } : baseline.spec;
  const current = await (await rwkvSweeps()).run(spec, db, o);
  return { current, diffs: compareRwkvRows(baseline.rows, current.rows, tol) };
}

export function rwkvDiffTable(diffs: RwkvDiff[]): string {
  const head = ['soc', 'setting', 'memory MiB', 'token ms', 'field', 'baseline', 'now'];
  const body = diffs.map((d) => [
    d.soc,
    d.setting,
    String(d.memoryMiB),
    d.tokenMsTarget ? String(d.tokenMsTarget) : '-',
    d.field,
    d.baseline,
    d.current,
  ]);
  return textTable(head, body);
}
