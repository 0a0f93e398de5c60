/**
 * The HTML report and its verdicts on hand-made sweep rows (no model run): intervals on every accuracy,
 * misses hollow, one palette across its charts, an accuracy axis that stops at 100 %, and verdicts that
 * claim only what the rows show (issue 11, items 2, 3, 5 and 10).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAccuracy } from '../engine/eval/interval.js';
import { markerPath, plannerStyle } from '../engine/report/palette.js';
import { renderReport } from '../engine/report/report.js';
import { summarize, verdicts } from '../engine/report/verdict.js';
import type { Sweep, SweepRow } from '../engine/sweep/types.js';

function row(planner: string, targetMs: number, o: Partial<SweepRow> = {}): SweepRow {
  const makespanMs = o.makespanMs ?? 50;
  return {
    soc: 'odroid-n2plus',
    planner,
    targetMs,
    bufferKb: 640,
    layers: 4,
    slices: 8,
    accuracy: 0.8,
    makespanMs,
    stallMs: 0,
    persistentBytes: 300 * 1024,
    peakBytes: 400 * 1024,
    deadlineMet: makespanMs <= targetMs,
    withinBudget: (o.persistentBytes ?? 300 * 1024) <= 640 * 1024,
    configHash: `${planner}-${targetMs}`,
    surrogate: 0,
    shards: [],
    events: [],
    ...o,
  };
}

function sweepOf(rows: SweepRow[], limit?: number): Sweep {
  const planners = [...new Set(rows.map((r) => r.planner))];
  return {
    id: 7,
    createdAt: '2026-11-30T00:00:00Z',
    spec: {
      model: 'fixtures/models/bert-spam',
      socs: ['odroid-n2plus'],
      targetsMs: [60, 120],
      buffersKb: [640],
      planners,
      split: 'dev',
      importance: 'sti:32/2',
      seq: 128,
      ...(limit ? { limit } : {}),
    },
    modelChecksum: 'x',
    task: 'spam',
    rowCount: rows.length,
    rows,
  };
}

const html = (s: Sweep, examples?: number) => renderReport(s, 'html', { profiles: [], version: 'test', ...(examples ? { examples } : {}) });

test('the memory check is "not made" without hold-32 rows, and the accuracy check without a baseline meeting the deadline', () => {
  const rows = [row('sti', 60), row('sti', 120), row('stdpl-32', 60, { makespanMs: 180 }), row('stdpl-32', 120, { makespanMs: 180 })];
  const v = verdicts(rows);
  assert.equal(v.length, 2);
  assert.ok(v.every((x) => x.memoryOk === undefined && x.accuracyOk === undefined));
  const sum = summarize(v);
  assert.deepEqual([sum.memory.made, sum.accuracy.made], [0, 0]);
  assert.match(sum.memory.why, /no hold-32 rows/);
  const page = html(sweepOf(rows), 200);
  assert.match(page, /Memory check[^]*?<b class="empty">not made<\/b>: the sweep has no hold-32 rows/);
  assert.match(page, /Accuracy check[^]*?<b class="empty">not made<\/b>: no baseline/);
  assert.doesNotMatch(page, /holds/);
});

test('the memory check holds or fails only where STI is within 1 point of hold-32', () => {
  const big = row('hold-32', 60, { persistentBytes: 12 * 1024 * 1024, accuracy: 0.805, makespanMs: 100 });
  const holds = verdicts([row('sti', 60), big]);
  assert.equal(holds[0].memoryOk, true);
  assert.ok(holds[0].memoryRatio! > 10);
  const fails = verdicts([row('sti', 60, { persistentBytes: 3 * 1024 * 1024 }), big]);
  assert.equal(fails[0].memoryOk, false);
  const far = verdicts([row('sti', 60), { ...big, accuracy: 0.9 }]);
  assert.equal(far[0].memoryOk, undefined, 'not within 1 point: no claim');
  assert.match(summarize(far).memory.why, /never within 1 point/);
  assert.match(
    html(sweepOf([row('sti', 60), big]), 200),
    /Memory check[^]*?<b class="ok">holds<\/b> at the 1 point where it could be made/,
  );
  // The accuracy check against a baseline that meets the deadline.
  const beaten = verdicts([row('sti', 60, { accuracy: 0.7 }), row('stdpl-4', 60, { accuracy: 0.75, makespanMs: 55 })]);
  assert.equal(beaten[0].accuracyOk, false);
  assert.equal(summarize(beaten).accuracy.failed, 1);
});

test('every accuracy in the report carries its 95 % interval; the rows own count wins over the sweep-wide one', () => {
  const rows = [
    row('sti', 60, { accuracy: 0.705 }),
    row('stdpl-32', 60, { makespanMs: 180, accuracy: 0.685, examples: 50 } as Partial<SweepRow>),
  ];
  const page = html(sweepOf(rows), 200);
  assert.ok(page.includes(formatAccuracy(0.705, 200)), 'sti at the sweep-wide 200 examples');
  assert.ok(page.includes(formatAccuracy(0.685, 50)), 'stdpl-32 at its own 50 examples');
  // Every chart point's tooltip names its accuracy with "±" and its deadline verdict.
  const titles = [
    ...page.matchAll(/<path d="[^"]+" fill="[^"]+" stroke="[^"]+" stroke-width="1.6" class="(met|missed)"><title>([^<]+)<\/title>/g),
  ];
  assert.ok(titles.length >= 3);
  for (const [, cls, t] of titles) {
    assert.match(t, /% ± [\d.]+/);
    if (cls === 'missed') assert.match(t, /deadline MISSED/);
  }
  // The sweep's limit is the count when nothing else says.
  assert.ok(html(sweepOf(rows.slice(0, 1), 32)).includes(formatAccuracy(0.705, 32)));
  // Without any count the report says so instead of printing a bare number.
  assert.match(html(sweepOf(rows.slice(0, 1))), /interval unknown: example count not recorded/);
});

test('report charts: misses hollow, one colour per planner in both charts, the accuracy axis stops at 100 %', () => {
  const rows = [
    row('sti', 60, { accuracy: 0.99 }),
    row('sti', 120, { accuracy: 1 }),
    row('stdpl-32', 60, { makespanMs: 180, accuracy: 1, persistentBytes: 0 }),
    row('stdpl-32', 120, { makespanMs: 110, accuracy: 1, persistentBytes: 0 }),
  ];
  const page = html(sweepOf(rows), 500);
  const colour = plannerStyle('stdpl-32').color;
  const markers = [
    ...page.matchAll(
      /<path d="[^"]+" fill="([^"]+)" stroke="([^"]+)" stroke-width="1.6" class="(met|missed)"><title>(\w[\w-]*) @ (\d+) ms/g,
    ),
  ];
  const missed = markers.filter((m) => m[4] === 'stdpl-32' && m[5] === '60');
  assert.ok(missed.length >= 1);
  for (const m of missed) assert.deepEqual([m[1], m[2], m[3]], ['white', colour, 'missed']);
  const met = markers.filter((m) => m[4] === 'stdpl-32' && m[5] === '120');
  assert.ok(met.length >= 2, 'in both charts');
  for (const m of met) assert.deepEqual([m[1], m[2]], [colour, colour]);
  // y tick labels of the accuracy charts never exceed 100.
  const ticks = [...page.matchAll(/text-anchor="end">([\d.]+)<\/text>/g)].map((m) => Number(m[1]));
  assert.ok(ticks.length > 0 && Math.max(...ticks) <= 100, `ticks up to ${Math.max(...ticks)}`);
});

test('the planner palette: stable by name, distinct for every bert planner, closed markers only', () => {
  const names = ['sti', 'sti-plus', 'optimal', 'sti-nobuffer', 'sti-uniform', 'submodel'];
  for (const k of ['load-exec', 'stdpl', 'hold']) for (const b of [2, 3, 4, 5, 6, 32]) names.push(`${k}-${b}`);
  const looks = names.map((n) => JSON.stringify(plannerStyle(n)));
  assert.equal(new Set(looks).size, names.length, 'no two planners look alike');
  assert.deepEqual(plannerStyle('stdpl-4'), plannerStyle('stdpl-4'));
  // hold-4, load-exec-4 and stdpl-4 (identical curves on small models) differ in colour.
  assert.equal(new Set(['hold-4', 'load-exec-4', 'stdpl-4'].map((n) => plannerStyle(n).color)).size, 3);
  // An unknown planner still gets one stable style.
  assert.deepEqual(plannerStyle('my-planner'), plannerStyle('my-planner'));
  for (const n of [...names, 'my-planner']) assert.match(markerPath(plannerStyle(n).shape, 10, 10, 4), /Z$/, `${n}: a closed shape`);
});
