import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FamilyModel, PlannedRequest, PlanningRequest } from '../engine/families/index.js';
import type { CostModel } from '../engine/soc/cost.js';
import { renderReport } from '../engine/report/report.js';
import { loadSocProfiles } from '../engine/soc/load.js';
import { ExperimentStore } from '../engine/store/db.js';
import { compareRows, DEFAULT_TOLERANCE, regress } from '../engine/sweep/regress.js';
import { runSweep } from '../engine/sweep/sweep.js';
import { accuracyCell, rowsWithoutEvents, sweepCsv, sweepTable } from '../engine/sweep/table.js';
import type { Sweep, SweepSpec } from '../engine/sweep/types.js';
import { wilson95 } from '../engine/eval/interval.js';
import { existsSync } from 'node:fs';
import { ROOT, shardlab, SPAM_MODEL, TEST_HOME, tempDir } from './helpers.js';
import { assertRefused } from './refused.js';
import { assertAllRefused, shardlabInOneProcess } from './refusals.js';

process.env.SHARDLAB_HOME = TEST_HOME;

const spec: SweepSpec = {
  model: SPAM_MODEL,
  socs: ['odroid-n2plus'],
  targetsMs: [40, 120],
  buffersKb: [400],
  planners: ['sti', 'optimal', 'sti-uniform', 'stdpl-32', 'hold-32'],
  split: 'dev',
  limit: 32,
  importance: 'sti:32/2',
  seq: 128,
};

let db: ExperimentStore;
let sweep: Sweep;

before(async () => {
  // The CLI's database in TEST_HOME: the spam baseline's regress below reuses this importance profile.
  db = ExperimentStore.open();
  sweep = await runSweep(spec, db);
});
after(() => db.close());

test('a sweep runs every combination, stores it, and its rows tell STI from the stalling baseline', () => {
  assert.equal(sweep.rows.length, 2 * 5);
  assert.equal(db.getSweep(sweep.id)?.rows.length, 10);
  assert.ok(db.listSweeps().some((s) => s.id === sweep.id && s.rowCount === 10));
  const at = (planner: string, t: number) => sweep.rows.find((r) => r.planner === planner && r.targetMs === t)!;
  assert.ok(at('stdpl-32', 40).stallMs > 0);
  assert.equal(at('stdpl-32', 40).deadlineMet, false);
  for (const t of spec.targetsMs) {
    assert.ok(at('sti', t).deadlineMet, `sti at ${t} ms`);
    assert.ok(at('sti', t).persistentBytes <= 400 * 1024);
    assert.ok(at('hold-32', t).persistentBytes > 10 * at('sti', t).persistentBytes);
    assert.equal(at('hold-32', t).withinBudget, false);
    assert.ok(at('optimal', t).surrogate >= at('sti', t).surrogate - 1e-9);
  }
  // The executor's events are kept, and the makespan is the last compute's end.
  const r = at('sti', 120);
  assert.equal(Math.max(...r.events.filter((e) => e.stage === 'compute').map((e) => e.end)) / 1000, r.makespanMs);
});

test('regress passes on a re-run and catches a perturbed planner', async () => {
  const same = await regress(sweep, db);
  assert.deepEqual(same.diffs, []);
  // Perturb STI's output: stream the first preloaded shard instead of holding it.
  const perturbed = (model: FamilyModel, cost: CostModel, req: PlanningRequest): PlannedRequest => {
    const p = model.plan(cost, req);
    if (req.planner !== 'sti') return p;
    const shards = p.plan.units.map((s) => ({ ...s }));
    const first = shards.find((s) => s.preload);
    if (first) first.preload = false;
    const bits = shards.find((s) => s.bits !== 2);
    if (bits) bits.bits = 2;
    return { ...p, plan: { ...p.plan, units: shards } };
  };
  const moved = await regress(sweep, db, DEFAULT_TOLERANCE, { plan: perturbed });
  assert.ok(moved.diffs.length > 0);
  assert.ok(moved.diffs.every((d) => d.planner === 'sti'));
  assert.ok(moved.diffs.some((d) => d.field === 'configuration'));
  assert.ok(moved.diffs.some((d) => d.field === 'persistentBytes'));
});

test('compareRows applies the tolerances', () => {
  const base = sweep.rows;
  const nudged = base.map((r) => ({ ...r, accuracy: r.accuracy + 0.004, makespanMs: r.makespanMs * 1.005 }));
  assert.deepEqual(compareRows(base, nudged, DEFAULT_TOLERANCE), []);
  const beyond = base.map((r, i) => (i === 0 ? { ...r, accuracy: r.accuracy - 0.02 } : r));
  assert.deepEqual(
    compareRows(base, beyond, DEFAULT_TOLERANCE).map((d) => d.field),
    ['accuracy'],
  );
  assert.deepEqual(
    compareRows(base, base.slice(1), DEFAULT_TOLERANCE).map((d) => d.field),
    ['row'],
  );
});

test('the HTML report is self-contained and has every section; JSON and CSV carry the rows', () => {
  const profiles = loadSocProfiles().filter((p) => spec.socs.includes(p.id));
  const html = renderReport(sweep, 'html', { profiles, version: 'test' });
  assert.doesNotMatch(html, /<script|\bsrc=|href="http|@import|url\(/i);
  for (const h of ['STI against the baselines', 'Accuracy and memory', 'STI greedy vs optimal', 'Pipeline timelines', 'Setup', 'Raw rows'])
    assert.ok(html.includes(`<h2>${h}`), h);
  assert.ok((html.match(/<svg /g) ?? []).length >= 3 + 5);
  assert.ok(html.includes('83.6 MB/s'), 'the SoC numbers are in the setup');
  const json = JSON.parse(renderReport(sweep, 'json', { profiles, version: 'test' }));
  assert.equal(json.rows.length, 10);
  assert.deepEqual(json.spec, spec);
  const csv = renderReport(sweep, 'csv', { profiles, version: 'test' }).trim().split('\n');
  assert.equal(csv.length, 11);
  assert.ok(csv[0].startsWith('soc,planner,targetMs,bufferKb'));
});

const BASELINES = ['bert-spam', 'bert-sotu-era'].map((m) => ({
  model: join(ROOT, 'fixtures/models', m),
  file: join(ROOT, 'test/baselines', `${m}.json`),
}));

test('the committed fixture baselines hold (shardlab regress exits 0)', () => {
  // Both by the CLI's main in one process (refusals.ts); the next test runs regress through bin/shardlab.js.
  const results = shardlabInOneProcess(BASELINES.map((b) => ['regress', '--baseline', b.file, '--model', b.model, '--json']));
  for (const r of results) {
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.passed, true);
    assert.equal(out.modelChanged, false);
  }
});

test('shardlab regress exits 1 with a diff table when a baseline row moved', () => {
  const base = JSON.parse(readFileSync(BASELINES[0].file, 'utf8'));
  // The baseline's STI rows alone: a baseline of one planner re-runs that planner only, and a moved row is
  // caught the same way (the whole baseline is re-run above).
  base.spec.planners = ['sti'];
  base.rows = base.rows.filter((r: { planner: string }) => r.planner === 'sti');
  base.rowCount = base.rows.length;
  const row = base.rows.find((r: { planner: string }) => r.planner === 'sti');
  row.makespanMs *= 1.5;
  const file = join(tempDir(), 'moved.json');
  writeFileSync(file, JSON.stringify(base));
  const r = shardlab('regress', '--baseline', file, '--model', BASELINES[0].model);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /1 difference\(s\) beyond tolerance/);
  assert.match(r.stdout, /sti\s+\d+\s+\d+\s+makespanMs/);
});

test('bad sweep, report and regress input is refused with one line and exit 2', () => {
  const sweepArgs = ['sweep', '--socs', 'odroid-n2plus', '--model', SPAM_MODEL];
  assertRefused([...sweepArgs, '--targets-ms', '50,abc'], /--targets-ms takes numbers/);
  const notBaseline = join(tempDir(), 'x.json');
  writeFileSync(notBaseline, '{"rows": []}');
  // A shape preset would make a model of random weights before anything is checked (minutes, gigabytes).
  const text = readFileSync(BASELINES[0].file, 'utf8');
  const preset = join(tempDir(), 'preset.json');
  writeFileSync(preset, JSON.stringify({ ...JSON.parse(text), spec: { ...JSON.parse(text).spec, model: 'bert-large' } }, null, 1));
  // A stray byte in a pretty-printed baseline: one line, with where it is.
  const stray = join(tempDir(), 'stray.json');
  writeFileSync(stray, text.replace('"split"', 'x"split"'));
  assertAllRefused([
    [['sweep', '--socs', 'nope', '--model', SPAM_MODEL, '--targets-ms', '50'], /nope/],
    [[...sweepArgs, '--targets-ms', '50', '--planners', 'sti,fast'], /unknown planner "fast"/],
    [['report', '999', '--out', join(tempDir(), 'r.html')], /no sweep 999/],
    [['regress', '--baseline', notBaseline], /not a sweep baseline/],
    [['regress', '--baseline', join(tempDir(), 'missing.json')], /no such baseline file/],
    [['regress', '--baseline', preset], /spec\.model: must be a model directory or shard store, not a shape preset .*"bert-large"/],
    [['regress', '--baseline', stray], /stray\.json: not valid JSON \(at line \d+, column \d+: /],
  ]);
});

test('rows carry their example count and 95 % interval; rows stored before without a count still read', () => {
  for (const r of sweep.rows) assert.equal(r.examples, 32);
  const exported = rowsWithoutEvents(sweep.rows);
  assert.deepEqual(exported[0].accuracyInterval, wilson95(sweep.rows[0].accuracy, 32));
  assert.ok(!('events' in exported[0]));
  assert.match(accuracyCell(sweep.rows[0]), /^\d+\.\d % ± \d+\.\d$/);
  const csv = sweepCsv(sweep.rows).split('\n');
  const cols = csv[0].split(',');
  const first = csv[1].split(',');
  assert.equal(Number(first[cols.indexOf('accuracyLow')]), exported[0].accuracyInterval!.low);
  assert.equal(first[cols.indexOf('examples')], '32');
  // A sweep stored before rows kept their count: no interval, the bare accuracy, empty CSV cells.
  const old = sweep.rows.map((r) => ({ ...r, examples: undefined }));
  assert.equal(rowsWithoutEvents(old)[0].accuracyInterval, undefined);
  assert.match(sweepTable(old), new RegExp(`${(100 * old[0].accuracy).toFixed(1)} %  `));
  assert.equal(sweepCsv(old).split('\n')[1].split(',')[cols.indexOf('accuracyLow')], '');
});

test('shardlab sweep prints a row per point with its interval; report without --out writes sweep-ID.html here', () => {
  const args = ['sweep', '--socs', 'odroid-n2plus', '--model', 'bert-spam', '--targets-ms', '40,120', '--buffers-kb', '400'];
  const r = shardlab(...args, '--planners', 'stdpl-32,sti-uniform', '--limit', '32');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^soc\s+planner\s+target ms\s+buffer KB\s+n x m\s+accuracy \(95 %\)/);
  const rows = lines.filter((l) => l.startsWith('odroid-n2plus'));
  assert.equal(rows.length, 4);
  for (const row of rows) assert.match(row, /\d+\.\d % ± \d+\.\d/);
  // Every row lines up with the header.
  const at = lines[0].indexOf('makespan ms') + 'makespan ms'.length;
  for (const row of rows) assert.match(row.slice(at - 6, at), /^\s*\d+\.\d$/);
  const id = /stored as sweep (\d+)/.exec(lines.at(-1)!)![1];
  // The report (from a fresh directory) and a --json sweep by the CLI's main in one process (refusals.ts);
  // the sweep above ran through bin/shardlab.js.
  const cwd = tempDir();
  const [rep, swept] = shardlabInOneProcess(
    [
      ['report', id],
      ['sweep', ...args.slice(1), '--planners', 'stdpl-32', '--limit', '32', '--json'],
    ],
    {},
    cwd,
  );
  assert.equal(rep.status, 0, rep.stderr);
  assert.ok(existsSync(join(cwd, `sweep-${id}.html`)));
  assert.match(rep.stdout, new RegExp(`wrote ${join(cwd, `sweep-${id}.html`)} \\(html, sweep ${id}, 4 rows\\)`));
  const json = JSON.parse(swept.stdout);
  assert.equal(json.rows.length, 2);
  assert.equal(json.rows[0].examples, 32);
  assert.ok(json.rows[0].accuracyInterval.low <= json.rows[0].accuracy);
});
