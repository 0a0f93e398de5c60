/**
 * RWKV sweeps, reports and regression (issue 15): the committed baseline of the RWKV fixture re-runs
 * through `shardlab regress` (real greedy runs in virtual time, quality on a test sample, predictions),
 * its rows behave as the settings should, the planner's rows never lose quality with more memory, the
 * report draws speed and quality against memory per SoC, and a tampered baseline fails.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RWKV_LIMIT, RWKV_RUN_TOKENS_DEFAULT, RWKV_SETTING_NAMES } from '../engine/cli/commands/sweep.js';
import { QUALITY_TIE, type PlanningContext } from '../engine/families/rwkv/edge/planning.js';
import { renderReport } from '../engine/report/report.js';
import { loadSocProfiles } from '../engine/soc/load.js';
import { UserError } from '../engine/core/errors.js';
import { parseAnyBaseline } from '../engine/sweep/baseline.js';
import { ExperimentStore } from '../engine/store/db.js';
import { RWKV_RUN_TOKENS, RWKV_SETTINGS, RWKV_SWEEP_LIMIT, runRwkvSweep, rwkvRowsOf } from '../engine/families/rwkv/sweep.js';
import type { RwkvSweep, RwkvSweepRow, RwkvSweepSpec } from '../engine/sweep/rwkv-types.js';
import { ROOT, SPAM_MODEL, TEST_HOME, tempDir } from './helpers.js';
import { assertRefusedHere, shardlabHere } from './cli-in-process.js';
import { assertRefused } from './refused.js';

process.env.SHARDLAB_HOME = TEST_HOME;

const MODEL = join(ROOT, 'fixtures/models/rwkv5-en');
const BASELINE = join(ROOT, 'test/baselines/rwkv5-en.json');
const MIB = 2 ** 20;

let db: ExperimentStore;
/** The committed baseline as `shardlab regress` re-ran it (stored in this test's experiment store). */
let rerun: RwkvSweep;
let regressOut: { passed: boolean; modelChanged: boolean; rows: number; sweepId: number; diffs: unknown[] };
let regressStatus: number | null;

before(async () => {
  // In process (cli-in-process.ts), so the tests below share its opened corpus; the first refusal below is a spawned process.
  const r = await shardlabHere('regress', '--baseline', BASELINE, '--model', MODEL, '--json');
  regressStatus = r.status;
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  regressOut = JSON.parse(r.stdout);
  db = ExperimentStore.open();
  const stored = db.getSweep<RwkvSweepSpec, unknown>(regressOut.sweepId)!;
  rerun = { ...stored, rows: rwkvRowsOf(stored.rows) };
});
after(() => db.close());

const at = (rows: RwkvSweepRow[], soc: string, setting: string, mib: number) =>
  rows.find((r) => r.soc === soc && r.setting === setting && r.memoryMiB === mib)!;

test('the committed RWKV baseline holds (shardlab regress exits 0)', () => {
  assert.equal(regressStatus, 0, JSON.stringify(regressOut.diffs, null, 1));
  assert.equal(regressOut.passed, true);
  assert.equal(regressOut.modelChanged, false);
  const base = JSON.parse(readFileSync(BASELINE, 'utf8'));
  assert.equal(regressOut.rows, base.rows.length);
  assert.deepEqual(rerun.spec, { ...base.spec, model: MODEL });
});

test('RWKV sweep rows: streaming the dense model holds less and is slower; compression fits budgets the dense model does not', () => {
  const { socs, memoryMiB } = rerun.spec;
  assert.equal(rerun.rows.length, socs.length * memoryMiB.length * rerun.spec.settings.length);
  for (const soc of socs) {
    const fp16 = at(rerun.rows, soc, 'dense-fp16', memoryMiB[0]);
    const streamed = at(rerun.rows, soc, 'dense-streamed', memoryMiB[0]);
    const all = at(rerun.rows, soc, 'all', memoryMiB[0]);
    const allInt8 = at(rerun.rows, soc, 'all-int8', memoryMiB[0]);
    assert.ok(streamed.peakBytes < fp16.peakBytes, soc);
    assert.ok(streamed.tokensPerSecond < fp16.tokensPerSecond, soc);
    assert.ok(streamed.ioBytesPerToken > 0 && fp16.ioBytesPerToken === 0, soc);
    // The real runs agree: the same greedy text (the same weights), slower streamed, reads only when streamed.
    assert.equal(streamed.run!.text, fp16.run!.text);
    assert.ok(streamed.run!.tokensPerSecond < fp16.run!.tokensPerSecond, soc);
    assert.ok(streamed.run!.ioBytesPerToken > 0 && fp16.run!.ioBytesPerToken === 0, soc);
    assert.equal(streamed.perplexity, fp16.perplexity);
    assert.ok(allInt8.peakBytes < all.peakBytes && all.peakBytes < streamed.peakBytes, soc);
    assert.ok(allInt8.persistentBytes < fp16.persistentBytes / 3, soc);
    // A setting that fits a budget fits every larger one, and fits exactly when its peak does.
    for (const setting of rerun.spec.settings) {
      const fits = memoryMiB.map((m) => at(rerun.rows, soc, setting, m).fits);
      memoryMiB.forEach((m, i) => assert.equal(fits[i], at(rerun.rows, soc, setting, m).peakBytes <= m * MIB));
      assert.deepEqual(
        fits,
        [...fits].sort((a, b) => Number(a) - Number(b)),
        `${soc} ${setting}`,
      );
    }
  }
  // Every run starts from the zero state: a setting generates the same text on every SoC.
  for (const setting of rerun.spec.settings)
    assert.equal(new Set(socs.map((soc) => at(rerun.rows, soc, setting, memoryMiB[0]).run!.text)).size, 1, setting);
  // The faster storage streams faster.
  assert.ok(
    at(rerun.rows, 'rpi5-nvme', 'dense-streamed', 4).tokensPerSecond > at(rerun.rows, 'rpi4-sd', 'dense-streamed', 4).tokensPerSecond,
  );
});

/** Qualities for every grid point (measuring them all takes minutes): each technique costs perplexity, INT8 a little. */
function withQualities(ctx: PlanningContext): PlanningContext {
  return {
    ...ctx,
    points: ctx.points.map((p) => {
      const s = p.setting.spec;
      const perplexity =
        50 +
        (s.lowrank ? 6 : 0) +
        (s.sparseFfn ? (s.sparseFfn.mlp?.threshold === 0.7 ? 1 : 0.4) : 0) +
        (s.clusterHead ? (s.clusterHead.mass < 0.97 ? 2 : 1) : 0) +
        (s.int8 ? 0.1 : 0);
      return { ...p, quality: { perplexity, lastWordAccuracy: 0, split: 'test~given', tokens: 1 } };
    }),
  };
}

let plannerSweep: RwkvSweep;

test("more memory never lowers the planner's quality, and its picks fit their budgets", async () => {
  const spec: RwkvSweepSpec = {
    family: 'rwkv',
    model: MODEL,
    socs: ['rpi4-sd', 'pixel7'],
    memoryMiB: [3, 4, 5, 6, 8, 12, 16, 24],
    tokenMs: [],
    settings: ['dense-fp16', 'planner'],
    split: 'test',
    limit: 8,
    measure: false,
    runTokens: 0,
    prompt: 'Alice',
  };
  plannerSweep = await runRwkvSweep(spec, db, { context: withQualities });
  for (const soc of spec.socs) {
    const rows = spec.memoryMiB.map((m) => at(plannerSweep.rows, soc, 'planner', m));
    let last = Infinity;
    let picked = false;
    for (const r of rows) {
      if (picked) assert.ok(r.pick, `${soc} ${r.memoryMiB} MiB: a larger budget lost the pick`);
      if (!r.pick) {
        assert.match(r.why ?? '', /fits|meets|quality/);
        continue;
      }
      picked = true;
      assert.ok(r.fits && r.peakBytes <= r.memoryMiB * MIB, `${soc} ${r.memoryMiB} MiB`);
      // Perplexities within QUALITY_TIE are one quality (the faster wins), so "never lower" holds up to the tie.
      assert.ok(r.perplexity! <= last * (1 + QUALITY_TIE) + 1e-9, `${soc} ${r.memoryMiB} MiB: perplexity ${r.perplexity} after ${last}`);
      last = r.perplexity!;
    }
    assert.ok(picked, soc);
    // With the whole model in budget the planner reaches the uncompressed quality (INT8's +0.1 is within the tie).
    assert.ok(rows.at(-1)!.perplexity! <= 50 * (1 + QUALITY_TIE));
  }
});

test("the planner's picks meet their per-token targets, or say why nothing does", async () => {
  const spec: RwkvSweepSpec = {
    family: 'rwkv',
    model: MODEL,
    socs: ['pixel7'],
    memoryMiB: [8, 24],
    tokenMs: [0.05, 3, 40],
    settings: ['planner'],
    split: 'test',
    limit: 8,
    measure: false,
    runTokens: 0,
    prompt: 'Alice',
  };
  const sweep = await runRwkvSweep(spec, db, { context: withQualities });
  assert.equal(sweep.rows.length, 2 * 3);
  for (const r of sweep.rows) {
    if (r.pick)
      assert.ok(r.fits && r.tokenMs <= r.tokenMsTarget && r.peakBytes <= r.memoryMiB * MIB, `${r.memoryMiB} MiB, ${r.tokenMsTarget} ms`);
    else assert.match(r.why!, /per token|per-token/);
  }
  const row = (mib: number, t: number) => sweep.rows.find((r) => r.memoryMiB === mib && r.tokenMsTarget === t)!;
  for (const mib of spec.memoryMiB) {
    assert.equal(row(mib, 0.05).pick, undefined, 'nothing generates a token in 50 µs');
    assert.equal(row(mib, 0.05).optimum, undefined, 'nor does anything on the whole grid');
    assert.match(row(mib, 0.05).why!, /nothing meets 0\.05 ms per token/);
    const loose = row(mib, 40);
    assert.ok(loose.pick && loose.optimum, `${mib} MiB`);
    // The exhaustive search over the same grid is at least as good as the greedy pick.
    assert.ok(loose.optimumPerplexity! <= loose.perplexity! + 1e-9, `${mib} MiB`);
  }
  assert.ok(row(24, 40).perplexity! <= row(8, 40).perplexity!);
  // 3 ms per token is within reach at both budgets (the greedy climb once stopped short of it), and costs no quality here.
  for (const mib of spec.memoryMiB) {
    assert.ok(row(mib, 3).pick, `${mib} MiB at 3 ms: ${row(mib, 3).why}`);
    assert.ok(row(mib, 40).perplexity! <= row(mib, 3).perplexity!, `${mib} MiB`);
  }
});

test('the RWKV report draws tokens/s and quality vs memory per SoC, with the baselines; JSON and CSV carry the rows', () => {
  const profiles = loadSocProfiles().filter((p) => rerun.spec.socs.includes(p.id));
  const html = renderReport(rerun, 'html', { profiles, version: 'test' });
  assert.doesNotMatch(html, /<script|\bsrc=|href="http|@import|url\(/i);
  for (const soc of rerun.spec.socs) {
    assert.ok(html.includes(`aria-label="Tokens/s vs memory — ${soc}`), soc);
    assert.ok(html.includes(`aria-label="Quality vs memory — ${soc}`), soc);
  }
  assert.equal((html.match(/<svg /g) ?? []).length, 2 * rerun.spec.socs.length);
  for (const s of rerun.spec.settings) assert.ok(html.includes(`class="tick">${s}</text>`), `${s} in a legend`);
  for (const h of ['The planner against the baselines', 'Speed, quality and memory', 'Real runs', 'Setup', 'Raw rows'])
    assert.ok(html.includes(`<h2>${h}`), h);
  // The planner's sweep: its line and its verdict table.
  const planner = renderReport(plannerSweep, 'html', { profiles: [], version: 'test' });
  assert.ok(planner.includes('class="tick">planner</text>'));
  assert.match(planner, /<polyline [^>]*stroke="#0072B2"/);
  assert.match(planner, /Quality check \(the pick's perplexity/);
  const json = JSON.parse(renderReport(rerun, 'json', { profiles, version: 'test' }));
  assert.equal(json.rows.length, rerun.rows.length);
  assert.equal(json.spec.family, 'rwkv');
  const csv = renderReport(rerun, 'csv', { profiles, version: 'test' }).trim().split('\n');
  assert.equal(csv.length, rerun.rows.length + 1);
  assert.ok(csv[0].startsWith('soc,setting,pick,optimum,optimumPerplexity,memoryMiB,tokenMsTarget,fits,tokensPerSecond'), csv[0]);
});

test('shardlab regress exits 1 with a diff table on a tampered RWKV baseline', async () => {
  const base = JSON.parse(readFileSync(BASELINE, 'utf8'));
  // One SoC, one setting, one budget: a re-run of seconds.
  const small = {
    ...base,
    spec: { ...base.spec, socs: ['rpi5-nvme'], settings: ['dense-fp16'], memoryMiB: [24] },
    rows: base.rows.filter((r: RwkvSweepRow) => r.soc === 'rpi5-nvme' && r.setting === 'dense-fp16' && r.memoryMiB === 24),
  };
  assert.equal(small.rows.length, 1);
  const file = join(tempDir(), 'tampered.json');
  small.rows[0].run.text = ' something else';
  small.rows[0].peakBytes *= 1.5;
  writeFileSync(file, JSON.stringify(small));
  const r = await shardlabHere('regress', '--baseline', file, '--model', MODEL);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /2 difference\(s\) beyond tolerance/);
  assert.match(r.stdout, /rpi5-nvme\s+dense-fp16\s+24\s+-\s+peakBytes/);
  assert.match(r.stdout, /run\.text\s+" something else"/);
});

test('bad RWKV sweep, report and regress input is refused with one line and exit 2', async () => {
  const rwkv = ['sweep', '--socs', 'rpi5-nvme', '--model', MODEL];
  // Spawned: bin/shardlab.js's exit code and output; the rest run in this process.
  assertRefused(
    ['sweep', '--socs', 'odroid-n2plus', '--model', SPAM_MODEL, '--targets-ms', '50', '--memory-mb', '8'],
    /--memory-mb is for RWKV models/,
  );
  await assertRefusedHere(['sweep', '--socs', 'odroid-n2plus', '--model', SPAM_MODEL], /a BERT sweep needs --targets-ms/);
  await assertRefusedHere([...rwkv, '--memory-mb', '8', '--targets-ms', '50'], /--targets-ms is for BERT models; .* use --token-ms/);
  await assertRefusedHere(rwkv, /an RWKV sweep needs --memory-mb: memory budgets in MiB/);
  await assertRefusedHere(['sweep', '--socs', 'nope', '--model', MODEL, '--memory-mb', '8'], /unknown SoC profile "nope"/);
  await assertRefusedHere([...rwkv, '--memory-mb', '8', '--settings', 'dense,all'], /unknown setting "dense": use some of dense-fp16/);
  await assertRefusedHere([...rwkv, '--memory-mb', '8,abc'], /--memory-mb takes numbers/);
  await assertRefusedHere(
    [...rwkv, '--memory-mb', '8', '--settings', 'dense-fp16', '--token-ms', '5'],
    /--token-ms is a target for the planner/,
  );
  await assertRefusedHere(
    ['report', String(regressOut.sweepId), '--timeline-ms', '5', '--out', join(tempDir(), 'r.html')],
    /--timeline-ms: an RWKV sweep/,
  );
  const bad = join(tempDir(), 'bad.json');
  const base = JSON.parse(readFileSync(BASELINE, 'utf8'));
  writeFileSync(bad, JSON.stringify({ ...base, spec: { ...base.spec, memoryMiB: [-1] } }));
  await assertRefusedHere(['regress', '--baseline', bad], /bad\.json: not a sweep baseline: spec\.memoryMiB\.0: .*\(got -1\)/);
  writeFileSync(bad, JSON.stringify({ ...base, spec: { ...base.spec, model: 'rwkv5-world-0.1b' } }));
  await assertRefusedHere(['regress', '--baseline', bad], /spec\.model: must be a model directory, not a shape preset/);
});

test('an RWKV baseline with any one value replaced is read or refused with a UserError, never anything else', () => {
  const base = JSON.parse(readFileSync(BASELINE, 'utf8'));
  const short = { ...base, rows: base.rows.slice(0, 3) };
  assert.equal(parseAnyBaseline(short, 'b.json').family, 'rwkv');
  const values: unknown[] = [null, -1, 0, 1e308, -1e308, 0.5, '', 'x', 'rwkv5-world-0.1b', [], {}, true, [1, 'a'], { family: 'rwkv' }];
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, Array.isArray(v) ? Number(k) : k]);
  };
  walk(short, []);
  let refused = 0;
  for (let i = 0; i < 600; i++) {
    const copy = structuredClone(short) as Record<string | number, unknown>;
    const path = paths[rand(paths.length)];
    const value = values[rand(values.length)];
    if (path.length === 0) continue;
    let at = copy;
    for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
    at[path.at(-1)!] = value;
    try {
      parseAnyBaseline(copy, 'b.json');
    } catch (e) {
      assert.ok(e instanceof UserError, `${path.join('.')} = ${JSON.stringify(value)}: ${(e as Error).stack}`);
      assert.doesNotMatch(e.message, /\n/);
      refused++;
    }
  }
  assert.ok(refused > 300, `${refused} refused`);
});

test("the CLI's copies of the RWKV sweep defaults match the engine's", () => {
  assert.equal(RWKV_LIMIT, RWKV_SWEEP_LIMIT);
  assert.equal(RWKV_RUN_TOKENS_DEFAULT, RWKV_RUN_TOKENS);
  assert.deepEqual([...RWKV_SETTING_NAMES], [...RWKV_SETTINGS]);
});
