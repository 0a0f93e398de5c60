/** The stored sweeps: the list (fetched, reloadable), the one line that names a sweep, and how a row opens as a plan. */
import { useCallback, useEffect, useState } from 'react';
import type { SweepRow, SweepSummary, SweepView } from '../../engine/workbench/api.js';
import type { Ctx } from './context.js';

export function useSweeps(ctx: Ctx) {
  const [list, setList] = useState<SweepSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setList(await ctx.api.call('listSweeps', {}));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [ctx.api]);
  useEffect(() => void reload(), [reload]);
  return { list, error, reload };
}

/** The bundled model a sweep ran on: the last part of its model path. */
export const modelIdOf = (s: SweepSummary) => s.spec.model.split(/[\\/]/).filter(Boolean).at(-1) ?? s.spec.model;

export function describeSweep(s: SweepSummary): string {
  return `#${s.id} · ${modelIdOf(s)} · ${s.spec.socs.join(', ')} · ${s.spec.planners.join(', ')} · ${s.rowCount} rows`;
}

/** The examples a row's accuracy was measured on (its own count when the sweep recorded one), for its interval. */
export function examplesOf(row: SweepRow, sweep: SweepView): number | null {
  return (row as SweepRow & { examples?: number }).examples ?? sweep.examples;
}

/** Makes a sweep row's plan the shared request (What-if and Pipeline show it) and goes to What-if. */
export function openRow(ctx: Ctx, row: SweepRow, sweep: SweepView): void {
  const model = modelIdOf(sweep);
  if (!ctx.models.some((m) => m.id === model))
    return ctx.notify(`sweep #${sweep.id} ran on ${sweep.spec.model}, which is not a bundled model`, 'error');
  if (!ctx.socs.some((s) => s.profile.id === row.soc))
    return ctx.notify(`sweep #${sweep.id} used SoC "${row.soc}", which is no longer here`, 'error');
  ctx.setQuery({
    soc: row.soc,
    model,
    planner: row.planner,
    targetMs: row.targetMs,
    bufferKb: row.bufferKb,
    // The accuracy of the plan as the sweep measured it (same examples), so What-if shows the stored answer.
    evalLimit: sweep.spec.limit ?? 0,
  });
  ctx.go('whatif');
  ctx.notify(`Opened ${row.planner} at ${row.targetMs} ms, ${row.bufferKb} KB from sweep #${sweep.id}`);
}

// ---- the sweep form, kept across view switches and restarts ------------------------------------------

export interface SweepForm {
  targets: string;
  buffers: string;
  planners: string[];
  /** The SoC and model the targets were suggested for; null once the user typed their own. */
  suggestedFor: string | null;
}

const FORM_KEY = 'shardlab-sweep-form';

export function loadSweepForm(): SweepForm | null {
  try {
    return JSON.parse(localStorage.getItem(FORM_KEY) ?? 'null') as SweepForm | null;
  } catch {
    return null;
  }
}

export function saveSweepForm(f: SweepForm): void {
  localStorage.setItem(FORM_KEY, JSON.stringify(f));
}

/** Six targets spread evenly on a log scale from the fastest plan to the whole model streamed layerwise, rounded to 2 digits. */
export function suggestTargets(fastestMs: number, slowestMs: number, n = 6): number[] {
  const lo = fastestMs * 1.1;
  const hi = Math.max(slowestMs, lo * 2);
  const out = Array.from({ length: n }, (_, i) => Number((lo * Math.pow(hi / lo, i / (n - 1))).toPrecision(2)));
  return [...new Set(out)];
}
