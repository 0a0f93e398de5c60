/**
 * The acceptance checks over a sweep, per (SoC, buffer, target):
 *   accuracy — STI's accuracy is at least that of every baseline of STI §9 (load-exec-X, stdpl-X, hold-X,
 *     submodel) that meets the deadline within the same persistent-memory budget (the preload buffer). hold-X
 *     keeps the whole model resident, so it competes only where the buffer holds it; it is the reference for
 *     the memory check instead. STI's own ablations and variants are reported beside it, not as baselines.
 *   memory — wherever STI is within 1 point of hold-32, its persistent memory is at least 10x smaller.
 * A check is only claimed where the sweep's rows make it: no baseline meeting the deadline, no hold-32
 * row, or STI not within 1 point of hold-32 leave it undefined (not made), never "holds".
 */
import type { SweepRow } from '../sweep/types.js';

export interface Verdict {
  soc: string;
  bufferKb: number;
  targetMs: number;
  sti: SweepRow;
  /** The most accurate baseline that meets the deadline within the budget, if any. */
  bestBaseline?: SweepRow;
  /** The most accurate of STI's ablations and variants (sti-nobuffer, sti-uniform, sti-plus, …) meeting it. */
  bestVariant?: SweepRow;
  /** STI is at least as accurate as the best baseline; undefined when no baseline meets the deadline within the budget. */
  accuracyOk?: boolean;
  hold32?: SweepRow;
  /** hold-32's persistent bytes over STI's, when STI is within 1 point of hold-32. */
  memoryRatio?: number;
  /** The memory ratio is at least 10x; undefined when the sweep has no hold-32 row here or STI is not within 1 point of it. */
  memoryOk?: boolean;
  optimal?: SweepRow;
}

const BASELINE = /^(load-exec|stdpl|hold)-\d+$|^submodel$/;
const best = (rows: SweepRow[]) => rows.reduce<SweepRow | undefined>((a, r) => (!a || r.accuracy > a.accuracy ? r : a), undefined);

export function verdicts(rows: SweepRow[], stiName = 'sti'): Verdict[] {
  const out: Verdict[] = [];
  for (const sti of rows.filter((r) => r.planner === stiName)) {
    const same = rows.filter((r) => r.soc === sti.soc && r.bufferKb === sti.bufferKb && r.targetMs === sti.targetMs);
    const meeting = same.filter((r) => r.deadlineMet && r.withinBudget);
    const bestBaseline = best(meeting.filter((r) => BASELINE.test(r.planner)));
    const bestVariant = best(meeting.filter((r) => !BASELINE.test(r.planner) && r.planner !== stiName && r.planner !== 'optimal'));
    const hold32 = same.find((r) => r.planner === 'hold-32');
    const close = hold32 && Math.abs(hold32.accuracy - sti.accuracy) <= 0.01;
    const memoryRatio = close ? hold32.persistentBytes / Math.max(sti.persistentBytes, 1) : undefined;
    out.push({
      soc: sti.soc,
      bufferKb: sti.bufferKb,
      targetMs: sti.targetMs,
      sti,
      bestBaseline,
      bestVariant,
      accuracyOk: bestBaseline ? sti.deadlineMet && sti.accuracy >= bestBaseline.accuracy - 1e-12 : undefined,
      hold32,
      memoryRatio,
      memoryOk: memoryRatio === undefined ? undefined : memoryRatio >= 10,
      optimal: same.find((r) => r.planner === 'optimal'),
    });
  }
  return out;
}

/** What a check over all verdicts may claim: holds or fails where it was made, and how often; or that it was not made, and why. */
export interface CheckSummary {
  made: number;
  failed: number;
  /** Why the check was made nowhere (empty when made at least once). */
  why: string;
}

export function summarize(v: Verdict[]): { accuracy: CheckSummary; memory: CheckSummary } {
  const count = (f: (x: Verdict) => boolean | undefined) => ({
    made: v.filter((x) => f(x) !== undefined).length,
    failed: v.filter((x) => f(x) === false).length,
  });
  const acc = count((x) => x.accuracyOk);
  const mem = count((x) => x.memoryOk);
  return {
    accuracy: { ...acc, why: acc.made ? '' : 'no baseline of STI §9 meets the deadline within the buffer at any point of this sweep' },
    memory: {
      ...mem,
      why: mem.made
        ? ''
        : v.some((x) => x.hold32)
          ? 'STI is never within 1 point of hold-32 in this sweep'
          : 'the sweep has no hold-32 rows to compare with',
    },
  };
}
