/** A sweep's rows as a terminal table (whole, or a row at a time as they land) and as CSV (the raw columns, no plans or events). */
import { formatAccuracy, wilson95, type Interval } from '../eval/interval.js';
import type { SweepRow, SweepSpec } from './types.js';

export const CSV_COLUMNS = [
  'soc',
  'planner',
  'targetMs',
  'bufferKb',
  'layers',
  'slices',
  'accuracy',
  'accuracyLow',
  'accuracyHigh',
  'examples',
  'makespanMs',
  'stallMs',
  'persistentBytes',
  'peakBytes',
  'deadlineMet',
  'withinBudget',
  'configHash',
] as const;

/** A row's accuracy interval at 95 %, or undefined for a row stored before sweeps kept their example count. */
export function accuracyInterval(r: Pick<SweepRow, 'accuracy' | 'examples'>): Interval | undefined {
  return r.examples ? wilson95(r.accuracy, r.examples) : undefined;
}

export type ExportedRow = Omit<SweepRow, 'events'> & { accuracyInterval?: Interval };

/** A sweep's rows without their timelines, each accuracy with its 95 % interval: what JSON exports and baselines carry. */
export function rowsWithoutEvents(rows: SweepRow[]): ExportedRow[] {
  return rows.map((r) => {
    const copy: Partial<SweepRow> & { accuracyInterval?: Interval } = { ...r };
    delete copy.events;
    const interval = accuracyInterval(r);
    if (interval) copy.accuracyInterval = interval;
    return copy as ExportedRow;
  });
}

export function sweepCsv(rows: SweepRow[]): string {
  const cell = (v: unknown) =>
    v === undefined ? '' : typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v);
  const value = (r: SweepRow, c: (typeof CSV_COLUMNS)[number]) =>
    c === 'accuracyLow' ? accuracyInterval(r)?.low : c === 'accuracyHigh' ? accuracyInterval(r)?.high : r[c];
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => cell(value(r, c))).join(','))].join('\n') + '\n';
}

const HEAD = [
  'soc',
  'planner',
  'target ms',
  'buffer KB',
  'n x m',
  'accuracy (95 %)',
  'makespan ms',
  'stall ms',
  'persistent KB',
  'deadline',
];

/** "70.5 % ± 6.3", or the bare accuracy where the example count was not stored. */
export function accuracyCell(r: Pick<SweepRow, 'accuracy' | 'examples'>): string {
  return r.examples ? formatAccuracy(r.accuracy, r.examples) : `${(100 * r.accuracy).toFixed(1)} %`;
}

function cells(r: SweepRow): string[] {
  return [
    r.soc,
    r.planner,
    String(r.targetMs),
    String(r.bufferKb),
    `${r.layers}x${r.slices}`,
    accuracyCell(r),
    r.makespanMs.toFixed(1),
    r.stallMs.toFixed(1),
    (r.persistentBytes / 1024).toFixed(1),
    r.deadlineMet ? 'met' : 'missed',
  ];
}

export function sweepTable(rows: SweepRow[]): string {
  return textTable(HEAD, rows.map(cells), 2);
}

/**
 * The table printed a row at a time, as the sweep runs: its widths are fixed up front from the spec (SoC
 * and planner names, targets, buffers) and from the widest a number column usually gets, so rows that
 * land later line up with the header printed first.
 */
export function streamingTable(spec: Pick<SweepSpec, 'socs' | 'planners' | 'targetsMs' | 'buffersKb'>): {
  header: string;
  row(r: SweepRow): string;
} {
  const widest = (xs: unknown[]) => Math.max(...xs.map((x) => String(x).length));
  const typical = [
    widest(spec.socs),
    widest(spec.planners),
    widest(spec.targetsMs),
    widest(spec.buffersKb),
    'nn x mm'.length - 2,
    '100.0 % ± 10.0'.length,
    '1000.0'.length,
    '1000.0'.length,
    '10000.0'.length,
    'missed'.length,
  ];
  const widths = HEAD.map((h, i) => Math.max(h.length, typical[i]));
  return { header: line(HEAD, widths, 2), row: (r) => line(cells(r), widths, 2) };
}

function line(cells: string[], widths: number[], rightFrom: number): string {
  return cells.map((c, i) => (i < rightFrom ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}

/** Columns padded to their widest cell, two spaces apart; columns from `rightFrom` on are right-aligned. */
export function textTable(head: string[], body: string[][], rightFrom = Infinity): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [line(head, widths, rightFrom), ...body.map((b) => line(b, widths, rightFrom))].join('\n');
}
