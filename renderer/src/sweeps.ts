/** The stored sweeps: the list (fetched, reloadable) and the one line that names a sweep. */
import { useCallback, useEffect, useState } from 'react';
import type { SweepSummary } from '../../engine/workbench/api.js';
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

export function describeSweep(s: SweepSummary): string {
  const model = s.spec.model.split('/').filter(Boolean).at(-1);
  return `#${s.id} · ${model} · ${s.spec.socs.join(', ')} · ${s.spec.planners.join(', ')} · ${s.rowCount} rows`;
}
