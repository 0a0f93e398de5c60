/** A sweep's rows as a terminal table and as CSV (the raw columns, no plans or events). */
import type { SweepRow } from './types.js';

export const CSV_COLUMNS = [
  'soc',
  'planner',
  'targetMs',
  'bufferKb',
  'layers',
  'slices',
  'accuracy',
  'makespanMs',
  'stallMs',
  'persistentBytes',
  'peakBytes',
  'deadlineMet',
  'withinBudget',
  'configHash',
] as const;

/** A sweep's rows without their timelines: what JSON exports and baselines carry. */
export function rowsWithoutEvents(rows: SweepRow[]): Omit<SweepRow, 'events'>[] {
  return rows.map((r) => {
    const copy: Partial<SweepRow> = { ...r };
    delete copy.events;
    return copy as Omit<SweepRow, 'events'>;
  });
}

export function sweepCsv(rows: SweepRow[]): string {
  const cell = (v: unknown) => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

export function sweepTable(rows: SweepRow[]): string {
  const head = ['soc', 'planner', 'target ms', 'buffer KB', 'n x m', 'accuracy %', 'makespan ms', 'stall ms', 'persistent KB', 'deadline'];
  const body = rows.map((r) => [
    r.soc,
    r.planner,
    String(r.targetMs),
    String(r.bufferKb),
    `${r.layers}x${r.slices}`,
    (100 * r.accuracy).toFixed(2),
    r.makespanMs.toFixed(1),
    r.stallMs.toFixed(1),
    (r.persistentBytes / 1024).toFixed(1),
    r.deadlineMet ? 'met' : 'missed',
  ]);
  return textTable(head, body, 2);
}

/** Columns padded to their widest cell, two spaces apart; columns from `rightFrom` on are right-aligned. */
export function textTable(head: string[], body: string[][], rightFrom = Infinity): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < rightFrom ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}
