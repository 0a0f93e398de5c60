/**
 * Reports of a stored sweep: a self-contained HTML page (inline CSS and SVG, no scripts, opens with no
 * network), or the raw rows as JSON or CSV. The JSON is also a regression baseline (spec + rows).
 */
import { formatAccuracy, wilson95 } from '../eval/interval.js';
import type { SocProfile } from '../soc/profile.js';
import { rowsWithoutEvents, sweepCsv } from '../sweep/table.js';
import type { Sweep, SweepRow } from '../sweep/types.js';
import { plannerStyle } from './palette.js';
import { renderRwkvReport } from './rwkv-report.js';
import { CSS, socTables } from './setup.js';
import { chart, esc, timeline, type Series } from './svg.js';
import { isRwkvSweep, type RwkvSweep } from '../sweep/rwkv-types.js';
import { summarize, verdicts, type CheckSummary, type Verdict } from './verdict.js';

export const REPORT_FORMATS = ['html', 'json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportSetup {
  /** Profiles of the sweep's SoCs, for the setup section. */
  profiles: SocProfile[];
  version: string;
  /** Target whose timelines are drawn (default: the middle target of the sweep). */
  timelineTargetMs?: number;
  /** Examples each accuracy was measured on, for rows that do not record their own (default: the sweep's limit). */
  examples?: number;
}

/** A stored sweep's report: a BERT sweep's as below, an RWKV sweep's by rwkv-report.ts. */
export function renderReport(sweep: Sweep | RwkvSweep, format: ReportFormat, setup: ReportSetup): string {
  if (isRwkvSweep(sweep)) return renderRwkvReport(sweep, format, setup);
  if (format === 'csv') return sweepCsv(sweep.rows);
  if (format === 'json') return JSON.stringify({ ...sweep, rows: rowsWithoutEvents(sweep.rows) }, null, 1) + '\n';
  return html(sweep, setup);
}

/** How a sweep's accuracies are written: each with its 95 % interval, from the examples it was measured on. */
interface Accuracies {
  /** The row's own count when the sweep recorded one, else the report's. */
  count(r: SweepRow): number | undefined;
  /** "70.5 % ± 6.3", or the value with the note that its count is unknown. */
  text(r: SweepRow): string;
  /** As a chart point: value and error bar, in %. */
  point(r: SweepRow): { y: number; yLow?: number; yHigh?: number };
  /** "64.2–76.1" (%), or "unknown". */
  interval(r: SweepRow): string;
}

function accuracies(fallback: number | undefined): Accuracies {
  const count = (r: SweepRow) => (r as SweepRow & { examples?: number }).examples ?? fallback;
  const ci = (r: SweepRow) => {
    const n = count(r);
    return n ? wilson95(r.accuracy, n) : undefined;
  };
  return {
    count,
    text: (r) => {
      const n = count(r);
      return n ? formatAccuracy(r.accuracy, n) : `${pct(r.accuracy)} % (interval unknown: example count not recorded)`;
    },
    point: (r) => {
      const c = ci(r);
      return { y: 100 * r.accuracy, ...(c ? { yLow: 100 * c.low, yHigh: 100 * c.high } : {}) };
    },
    interval: (r) => {
      const c = ci(r);
      return c ? `${pct(c.low)}–${pct(c.high)}` : 'unknown';
    },
  };
}
const metWord = (r: SweepRow) => (r.deadlineMet ? 'deadline met' : 'deadline MISSED');

const pct = (x: number) => (100 * x).toFixed(2);
const kb = (b: number) => (b / 1024).toFixed(1);
const groups = <T, K>(xs: T[], key: (x: T) => K): Map<K, T[]> => {
  const m = new Map<K, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
};

function setupSection(sweep: Sweep, profiles: SocProfile[]): string {
  const s = sweep.spec;
  const socs = socTables(profiles);
  return `<section><h2>Setup</h2><table>
<tr><td>model</td><td><code>${esc(s.model)}</code> (checksum <code>${esc(sweep.modelChecksum)}</code>)</td></tr>
<tr><td>task</td><td>${esc(sweep.task)}; accuracy on the ${s.split} split${s.limit ? ` (a fixed stratified sample of ${s.limit} examples)` : ''}; importance ${esc(s.importance)} profiled on dev</td></tr>
<tr><td>request</td><td>${s.seq} tokens; makespan and memory from the executor in virtual time (real reads, dequantization and compute, modeled SoC time)</td></tr>
<tr><td>targets</td><td>${s.targetsMs.join(', ')} ms</td></tr><tr><td>preload buffers</td><td>${s.buffersKb.join(', ')} KB</td></tr>
<tr><td>planners</td><td>${s.planners.map(esc).join(', ')}</td></tr>
<tr><td>sweep</td><td>#${sweep.id}, ${esc(sweep.createdAt)}, ${sweep.rowCount} rows</td></tr></table>
${socs.join('\n')}</section>`;
}

const yesNo = (x: boolean | undefined) => (x === undefined ? 'not made' : x ? 'yes' : 'NO');

/** One check's verdict over the whole sweep, claiming only what its rows show. */
function claim(c: CheckSummary, holds: string): string {
  if (c.made === 0) return `<b class="empty">not made</b>: ${esc(c.why)}`;
  const where = `${c.made} point${c.made > 1 ? 's' : ''} where it could be made`;
  return c.failed === 0
    ? `<b class="ok">${holds}</b> at the ${where}`
    : `<b class="bad">fails at ${c.failed}</b> of the ${where} (rows marked)`;
}

function verdictSection(v: Verdict[], a: Accuracies): string {
  if (v.length === 0) return '<section><h2>STI against the baselines</h2><p class="empty">The sweep has no sti rows.</p></section>';
  const sum = summarize(v);
  const ratios = v.filter((x) => x.memoryRatio !== undefined).map((x) => x.memoryRatio!);
  const rows = v
    .map(
      (
        x,
      ) => `<tr class="${x.accuracyOk === false || x.memoryOk === false ? 'bad' : ''}"><td>${esc(x.soc)}</td><td>${x.bufferKb}</td><td>${x.targetMs}</td>
<td>${a.text(x.sti)}${x.sti.deadlineMet ? '' : ' (missed)'}</td><td>${x.bestBaseline ? `${esc(x.bestBaseline.planner)} ${a.text(x.bestBaseline)}` : '—'}</td><td>${yesNo(x.accuracyOk)}</td>
<td>${x.bestVariant ? `${esc(x.bestVariant.planner)} ${a.text(x.bestVariant)}` : '—'}</td><td>${x.optimal ? a.text(x.optimal) : '—'}</td><td>${x.hold32 ? a.text(x.hold32) : '—'}</td><td>${kb(x.sti.persistentBytes)}</td><td>${x.memoryRatio !== undefined ? `${x.memoryRatio.toFixed(1)}×` : 'n/a'}</td><td>${yesNo(x.memoryOk)}</td></tr>`,
    )
    .join('');
  return `<section><h2>STI against the baselines</h2>
<p>Accuracy check (STI ≥ every baseline of STI §9 — load-exec-X, stdpl-X, hold-X, submodel — that meets the deadline within the same preload-buffer budget; STI's ablations are shown beside it): ${claim(sum.accuracy, 'holds')}.
Memory check (≥ 10× below hold-32 wherever STI is within 1 point of it): ${claim(sum.memory, 'holds')}${ratios.length ? `; ratios ${Math.min(...ratios).toFixed(1)}× to ${Math.max(...ratios).toFixed(1)}×` : ''}.
Accuracies are shown with their 95 % (Wilson) interval: differences inside it are within the noise of the example count.</p>
<table><tr><th>SoC</th><th>buffer KB</th><th>target ms</th><th>STI %</th><th>best baseline meeting it, %</th><th>STI ≥</th><th>best STI ablation or variant, %</th><th>optimal %</th><th>hold-32 %</th><th>STI persistent KB</th><th>hold-32 / STI memory</th><th>≥ 10×</th></tr>${rows}</table></section>`;
}

function curves(rows: SweepRow[], a: Accuracies): string {
  const out: string[] = [];
  for (const [key, g] of groups(rows, (r) => `${r.soc}|${r.bufferKb}`)) {
    const [soc, buf] = key.split('|');
    const series: Series[] = [...groups(g, (r) => r.planner)].map(([planner, rs]) => ({
      name: planner,
      dashed: planner === 'optimal',
      points: rs.map((r) => ({
        x: r.targetMs,
        ...a.point(r),
        hollow: !r.deadlineMet,
        title: `${planner} @ ${r.targetMs} ms target: accuracy ${a.text(r)}; makespan ${r.makespanMs.toFixed(1)} ms, ${metWord(r)}; ${kb(r.persistentBytes)} KB resident${alsoHere(g, r)}`,
      })),
    }));
    out.push(
      chart({
        title: `Accuracy vs target latency — ${soc}, buffer ${buf} KB (hollow: deadline missed; bars: 95 % interval)`,
        xLabel: 'target latency (ms)',
        yLabel: 'accuracy (%)',
        series,
        yMax: 100,
      }),
    );
    const mem: Series[] = [
      ...groups(
        g.filter((r) => r.deadlineMet),
        (r) => r.planner,
      ),
    ].map(([planner, rs]) => ({
      name: planner,
      line: false,
      points: rs.map((r) => ({
        x: Math.max(r.persistentBytes / 1024, 1),
        ...a.point(r),
        title: `${planner} @ ${r.targetMs} ms target: ${kb(r.persistentBytes)} KB resident, accuracy ${a.text(r)}, ${metWord(r)}`,
      })),
    }));
    out.push(
      chart({
        title: `Persistent memory vs accuracy — ${soc}, buffer ${buf} KB (deadline met only; bars: 95 % interval)`,
        xLabel: 'persistent memory (KB, log)',
        yLabel: 'accuracy (%)',
        series: mem,
        logX: true,
        yMax: 100,
      }),
    );
  }
  return `<section><h2>Accuracy and memory</h2>${out.join('\n')}</section>`;
}

/** Planners whose point coincides with this row's (same target, same accuracy): drawn on top of each other. */
function alsoHere(rows: SweepRow[], r: SweepRow): string {
  const same = rows.filter((o) => o !== r && o.targetMs === r.targetMs && o.accuracy === r.accuracy).map((o) => o.planner);
  return same.length ? `; also here: ${same.join(', ')}` : '';
}

function greedyVsOptimal(rows: SweepRow[], a: Accuracies): string {
  const pairs = rows
    .filter((r) => r.planner === 'sti')
    .map((s) => ({
      s,
      o: rows.find((r) => r.planner === 'optimal' && r.soc === s.soc && r.bufferKb === s.bufferKb && r.targetMs === s.targetMs),
    }))
    .filter((p): p is { s: SweepRow; o: SweepRow } => !!p.o);
  if (pairs.length === 0)
    return '<section><h2>STI greedy vs optimal</h2><p class="empty">The sweep did not include both sti and optimal.</p></section>';
  const gap = pairs.map((p) => p.o.accuracy - p.s.accuracy);
  const body = pairs
    .map(
      ({ s, o }) =>
        `<tr><td>${esc(s.soc)}</td><td>${s.bufferKb}</td><td>${s.targetMs}</td><td>${s.layers}×${s.slices}</td><td>${a.text(s)}</td><td>${a.text(o)}</td><td>${(100 * (o.accuracy - s.accuracy)).toFixed(2)}</td><td>${s.surrogate.toFixed(3)}</td><td>${o.surrogate.toFixed(3)}</td><td>${s.configHash === o.configHash ? 'same plan' : ''}</td></tr>`,
    )
    .join('');
  const series: Series[] = [...groups(pairs, (p) => `${p.s.soc}, ${p.s.bufferKb} KB`)].flatMap(([key, ps]) => [
    {
      name: `sti, ${key}`,
      style: plannerStyle('sti'),
      points: ps.map(({ s }) => ({
        x: s.targetMs,
        ...a.point(s),
        hollow: !s.deadlineMet,
        title: `sti @ ${s.targetMs} ms: ${a.text(s)}, ${metWord(s)}`,
      })),
    },
    {
      name: `optimal, ${key}`,
      style: plannerStyle('optimal'),
      points: ps.map(({ o }) => ({
        x: o.targetMs,
        ...a.point(o),
        hollow: !o.deadlineMet,
        title: `optimal @ ${o.targetMs} ms: ${a.text(o)}, ${metWord(o)}`,
      })),
    },
  ]);
  return `<section><h2>STI greedy vs optimal</h2>
<p><code>optimal</code> solves STI's constraints exactly (HiGHS, 0/1 program) for the same submodel, maximizing the surrogate Σ importance × (1 − reconstruction error); both plans are then scored by the real oracle. Optimal − greedy accuracy: mean ${(100 * (gap.reduce((a, b) => a + b, 0) / gap.length)).toFixed(2)} points, range ${(100 * Math.min(...gap)).toFixed(2)} to ${(100 * Math.max(...gap)).toFixed(2)}.</p>
${chart({ title: 'Accuracy of STI greedy and optimal, point by point (bars: 95 % interval)', xLabel: 'target latency (ms)', yLabel: 'accuracy (%)', series, yMax: 100 })}
<table><tr><th>SoC</th><th>buffer KB</th><th>target ms</th><th>n×m</th><th>greedy %, 95 % interval</th><th>optimal %, 95 % interval</th><th>optimal − greedy (points)</th><th>greedy surrogate</th><th>optimal surrogate</th><th></th></tr>${body}</table></section>`;
}

function timelines(sweep: Sweep, setup: ReportSetup, a: Accuracies): string {
  const targets = [...new Set(sweep.rows.map((r) => r.targetMs))].sort((a, b) => a - b);
  const target = setup.timelineTargetMs ?? targets[Math.floor(targets.length / 2)];
  const out: string[] = [];
  for (const [key, g] of groups(
    sweep.rows.filter((r) => r.targetMs === target),
    (r) => `${r.soc}|${r.bufferKb}`,
  )) {
    const [soc, buf] = key.split('|');
    const span = Math.max(target, ...g.map((r) => r.makespanMs)) * 1.02;
    out.push(`<h3>${esc(soc)}, buffer ${buf} KB, target ${target} ms</h3>`);
    for (const r of g)
      out.push(
        timeline({
          title: `${r.planner}: ${r.layers}×${r.slices}, makespan ${r.makespanMs.toFixed(1)} ms (${metWord(r)}), stall ${r.stallMs.toFixed(1)} ms, ${a.text(r)}`,
          events: r.events ?? [],
          targetMs: target,
          spanMs: span,
        }),
      );
  }
  return `<section><h2>Pipeline timelines at ${target} ms</h2><p>Lanes: IO (blue), decompression (orange), compute (green), stalls (red); hover a block for layer, slice, bits and bytes.</p>${out.join('\n')}</section>`;
}

function rawTable(rows: SweepRow[], a: Accuracies): string {
  const body = rows
    .map(
      (r) =>
        `<tr${r.deadlineMet ? '' : ' class="bad"'}><td>${esc(r.soc)}</td><td>${esc(r.planner)}</td><td>${r.targetMs}</td><td>${r.bufferKb}</td><td>${r.layers}×${r.slices}</td><td>${pct(r.accuracy)}</td><td>${a.interval(r)}</td><td>${a.count(r) ?? '?'}</td><td>${r.makespanMs.toFixed(2)}</td><td>${r.stallMs.toFixed(2)}</td><td>${r.persistentBytes}</td><td>${r.peakBytes}</td><td>${r.deadlineMet ? 'met' : 'MISSED'}</td><td>${r.withinBudget ? 'yes' : 'no: over the buffer'}</td></tr>`,
    )
    .join('');
  return `<section><h2>Raw rows</h2><table><tr><th>soc</th><th>planner</th><th>targetMs</th><th>bufferKb</th><th>n×m</th><th>accuracy %</th><th>95 % interval %</th><th>examples</th><th>makespanMs</th><th>stallMs</th><th>persistentBytes</th><th>peakBytes</th><th>deadline</th><th>within buffer</th></tr>${body}</table></section>`;
}

function html(sweep: Sweep, setup: ReportSetup): string {
  const a = accuracies(setup.examples ?? sweep.spec.limit);
  const v = verdicts(sweep.rows);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shardlab sweep ${sweep.id}: ${esc(sweep.task)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>${CSS}</style></head><body>
<h1>shardlab sweep ${sweep.id}: ${esc(sweep.task)} on ${sweep.spec.socs.map(esc).join(', ')}</h1>
<p>Generated by shardlab ${esc(setup.version)} from the experiment store. Every accuracy is a real evaluation of the plan's configuration; every makespan, stall and memory figure comes from the pipelined executor in virtual time under the SoC profile below.</p>
${verdictSection(v, a)}
${curves(sweep.rows, a)}
${greedyVsOptimal(sweep.rows, a)}
${timelines(sweep, setup, a)}
${setupSection(sweep, setup.profiles)}
${rawTable(sweep.rows, a)}
</body></html>
`;
}
