/**
 * The WorkbenchApi contract every host must keep, as a UI sees it: each method answers a good payload with
 * its documented shape, refuses a bad one with one line naming the method, and jobs report their events
 * and settle. Run against browser mode's bridge and against the desktop app's engine process
 * (test/desktop.test.ts), so both front ends are held to the same API.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import {
  METHODS,
  type DataCheckView,
  type ImportedModelView,
  type ModelEntry,
  type AppInfo,
  type ExportFile,
  type JobEvent,
  type MethodName,
  type PlanView,
  type SocEntry,
} from '../engine/workbench/api.js';
import { ROOT } from './helpers.js';

export interface ApiUnderTest {
  call(method: string, payload: unknown): Promise<unknown>;
  /** Job events received so far, in order. */
  events: JobEvent[];
}

const Q = { soc: 'odroid-n2plus', model: 'bert-spam', planner: 'sti-uniform', targetMs: 120, bufferKb: 1536 };

/** assert.rejects matches a RegExp against `Name: message`; the contract is about the message alone. */
const says = (re: RegExp) => (e: Error) => re.test(e.message);

async function settled(api: ApiUnderTest, jobId: string, ms = 180_000): Promise<JobEvent> {
  const deadline = Date.now() + ms;
  for (;;) {
    const last = api.events.filter((e) => e.jobId === jobId).at(-1);
    if (last && ['done', 'error', 'cancelled'].includes(last.type)) return last;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not settle: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Registers the contract's tests for one host; `name` labels them and keeps saved ids apart. */
export function apiContract(name: string, open: () => Promise<ApiUnderTest>): void {
  let api: ApiUnderTest;
  const covered = new Set<MethodName>();
  const call = <T>(method: MethodName, payload: unknown) => (covered.add(method), api.call(method, payload) as Promise<T>);
  before(async () => {
    api = await open();
  });

  test(`${name}: every method refuses a payload that is not an object, in one line naming it`, async () => {
    for (const method of Object.keys(METHODS))
      await assert.rejects(api.call(method, []), (e: Error) => e.message.startsWith(`${method}: `) && !e.message.includes('\n'), method);
    await assert.rejects(api.call('constructor', {}), says(/unknown method/));
  });

  test(`${name}: boot data — info, SoCs, models, planners`, async () => {
    const info = await call<AppInfo>('info', {});
    assert.equal(info.dataDir, process.env.SHARDLAB_HOME);
    assert.ok(info.defaults.soc && info.defaults.model);
    const socs = await call<SocEntry[]>('listSocs', {});
    assert.ok(socs.some((s) => s.profile.id === 'odroid-n2plus' && s.bundled));
    const mine = {
      ...socs.find((s) => s.profile.id === 'odroid-n2plus')!.profile,
      id: `contract-${name.replace(/\W+/g, '-')}`,
      name: `contract ${name}`,
    };
    const saved = await call<SocEntry>('saveSoc', { profile: mine });
    assert.equal(saved.bundled, false);
    await assert.rejects(call('saveSoc', { profile: mine }), says(/exists already/));
    const models = await call<{ id: string }[]>('listModels', {});
    assert.ok(models.some((m) => m.id === 'bert-spam'));
    assert.ok((await call<string[]>('planners', { model: 'bert-spam' })).includes('sti-uniform'));
  });

  test(`${name}: plans, their trace and importance`, async () => {
    const p = await call<PlanView>('plan', Q);
    assert.ok(p.makespanMs > 0 && p.plan.units.length > 0);
    assert.equal(typeof p.meetsTarget, 'boolean');
    const all = { soc: Q.soc, model: Q.model, targetMs: Q.targetMs, bufferKb: Q.bufferKb };
    const rows = await call<{ planner: string }[]>('planAll', all);
    assert.ok(rows.some((r) => r.planner === 'sti-uniform'));
    const where = { soc: Q.soc, model: Q.model, bufferKb: Q.bufferKb };
    const range = await call<{ minMs: number; maxMs: number; fastestMs: number }>('targetRange', where);
    assert.ok(range.minMs > 0 && range.minMs <= range.fastestMs && range.fastestMs < range.maxMs);
    const trace = await call<ExportFile>('planTrace', { query: Q });
    assert.ok(Array.isArray((JSON.parse(trace.content) as { traceEvents: unknown[] }).traceEvents));
    const grid = await call<number[][] | null>('importance', { model: 'bert-spam' });
    assert.ok(grid === null || Array.isArray(grid));
    await assert.rejects(call('plan', { ...Q, soc: 'no-such-soc' }), says(/^plan: .*no-such-soc/));
  });

  test(`${name}: jobs report events and settle; a sweep is stored, exported and deleted`, async () => {
    const { jobId } = await call<{ jobId: string }>('startJob', { kind: 'accuracy', query: { ...Q, evalLimit: 16 } });
    const done = await settled(api, jobId);
    assert.equal(done.type, 'done', JSON.stringify(done));
    assert.ok(api.events.some((e) => e.jobId === jobId && e.type === 'started'));
    assert.deepEqual(await call('cancelJob', { jobId }), { cancelled: false });
    assert.ok(!(await call<{ jobId: string }[]>('listJobs', {})).some((j) => j.jobId === jobId), 'a settled job is not listed');
    const sweep = {
      model: 'bert-spam',
      socs: ['odroid-n2plus'],
      targetsMs: [120],
      buffersKb: [1536],
      planners: ['sti-uniform'],
      limit: 16,
    };
    const s = await call<{ jobId: string }>('startJob', { kind: 'sweep', sweep });
    assert.equal((await settled(api, s.jobId)).type, 'done');
    const list = await call<{ id: number }[]>('listSweeps', {});
    const id = Math.max(...list.map((x) => x.id));
    const view = await call<{ rows: unknown[] }>('getSweep', { id });
    assert.equal(view.rows.length, 1);
    const csv = await call<ExportFile>('exportSweep', { id, format: 'csv' });
    assert.match(csv.filename, /\.csv$/);
    assert.deepEqual(await call('deleteSweep', { id }), { deleted: true });
    await assert.rejects(call('getSweep', { id }), says(/no sweep/));
  });

  test(`${name}: RWKV — What-if, its grid, a recorded plan and the stored runs`, async () => {
    const none = { lowrank: false, sparseFfn: false, embCache: false, clusterHead: false, int8: false, stream: false };
    const q = { soc: 'rpi5-nvme', model: 'rwkv5-en', memoryMb: 64, techniques: none };
    const v = await call<{ family: string; fits: boolean; prediction: { tokenMs: number } }>('rwkvWhatIf', q);
    assert.equal(v.family, 'rwkv');
    assert.ok(v.fits && v.prediction.tokenMs > 0);
    const grid = await call<{ points: { baseline: boolean }[] }>('rwkvGrid', { soc: q.soc, model: q.model });
    assert.ok(grid.points.some((p) => p.baseline) && grid.points.some((p) => !p.baseline));
    const run = await call<{ id: number; kind: string }>('recordRwkvPlan', q);
    assert.equal(run.kind, 'plan');
    assert.ok((await call<{ id: number }[]>('listRwkvRuns', {})).some((r) => r.id === run.id));
    await assert.rejects(call('rwkvWhatIf', { ...q, model: 'bert-spam' }), says(/^rwkvWhatIf: bert-spam is not an RWKV model/));
  });

  test(`${name}: your own data is checked, with what was found and its problems`, async () => {
    const path = join(ROOT, 'fixtures/data/spam-dev-40.csv');
    const check = await call<DataCheckView>('checkData', { path, model: 'bert-spam' });
    assert.equal(check.ok, true, JSON.stringify(check.problems));
    assert.equal(check.rows, 40);
    assert.equal(check.kind, 'single');
    assert.deepEqual(check.splits, { train: 0, dev: 40, test: 0 });
    assert.deepEqual(check.modelLabels, ['ham', 'spam']);
    assert.match(check.task ?? '', /^data:[0-9a-f]{16}$/);
    const missing = await call<DataCheckView>('checkData', { path: join(ROOT, 'fixtures/data/no-such.csv') });
    assert.equal(missing.ok, false);
    assert.match(missing.problems[0], /no-such\.csv: cannot read/);
  });

  test(`${name}: your own model is imported, listed and planned on; a refused layout says why in one line`, async () => {
    const dir = join(ROOT, 'fixtures/models/hf-layouts/position-ids');
    const v = await call<ImportedModelView>('importModel', { dir });
    assert.match(v.id, /^imported-position-ids-[0-9a-f]{8}$/);
    assert.deepEqual(v.labels, ['negative', 'positive', 'spam']);
    assert.deepEqual(v.ignored, ['bert.embeddings.position_ids (I64 [1, 40])']);
    const models = await call<ModelEntry[]>('listModels', {});
    assert.equal(models.find((m) => m.id === v.id)?.imported?.dir, dir);
    const plan = await call<PlanView>('plan', { ...Q, model: v.id, planner: 'sti' });
    assert.equal(plan.importance, 'needs-data');
    await assert.rejects(
      call('importModel', { dir: join(ROOT, 'fixtures/models/hf-layouts/refused/relative-key') }),
      says(/^importModel: .*position_embedding_type "relative_key" is not supported[^\n]*$/),
    );
    await assert.rejects(call('plan', { ...Q, model: dir }), says(/^plan: model: must be a model id/));
  });

  test(`${name}: the contract covered every method of the API`, () => {
    assert.deepEqual([...covered].sort(), Object.keys(METHODS).sort());
  });
}
