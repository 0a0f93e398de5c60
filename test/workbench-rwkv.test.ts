/**
 * The workbench's RWKV methods over the real engine (engine/workbench/rwkv.ts and the service): the RWKV
 * fixture listed as a model of its own family, What-if's prediction moving with the toggles and budget,
 * the planner's pick once the grid has qualities, quality measured by a job and read back, a live
 * generation streaming tokens and trace events and stored as an experiment, and bad payloads refused in
 * one line by the hosts' validation.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { JobEvent, RwkvLiveResult, RwkvTechniques } from '../engine/workbench/api.js';
import { tempDir } from './helpers.js';

process.env.SHARDLAB_HOME = tempDir('shardlab-workbench-rwkv-');

const { WorkbenchService } = await import('../engine/workbench/service.js');
const { validateCall, BadRequest } = await import('../engine/workbench/validate.js');
const { BUNDLED_MODELS_DIR } = await import('../engine/core/paths.js');
const { planningGrid } = await import('../engine/families/rwkv/edge/planning.js');
const { lowRankSource, qualityKey, rwkvChecksum } = await import('../engine/families/rwkv/compress/assemble.js');
const { LM_TASK, techniquesHash } = await import('../engine/families/rwkv/lm-quality.js');
const { ExperimentStore } = await import('../engine/store/db.js');

const ALL: RwkvTechniques = { lowrank: true, sparseFfn: true, embCache: true, clusterHead: true, int8: false, stream: false };
const NONE: RwkvTechniques = { lowrank: false, sparseFfn: false, embCache: false, clusterHead: false, int8: false, stream: false };
const Q = { soc: 'rpi5-nvme', model: 'rwkv5-en', memoryMb: 8, techniques: ALL };
const DIR = join(BUNDLED_MODELS_DIR, 'rwkv5-en');

describe('payload validation of the RWKV methods and jobs', () => {
  const refused = (method: string, payload: unknown, want: RegExp) =>
    assert.throws(
      () => validateCall(method, payload),
      (e: Error) => e instanceof BadRequest && want.test(e.message) && !e.message.includes('\n'),
      `${method} ${JSON.stringify(payload)}`,
    );
  test('each is refused with one line naming the method and the field', () => {
    refused('rwkvWhatIf', { ...Q, memoryMb: 0 }, /^rwkvWhatIf: memoryMb: must be more than 0$/);
    refused('rwkvWhatIf', { ...Q, techniques: { ...ALL, pruning: true } }, /^rwkvWhatIf: techniques: unknown field "pruning"$/);
    refused('rwkvWhatIf', { ...Q, techniques: { lowrank: true } }, /^rwkvWhatIf: techniques\.sparseFfn: expected boolean/);
    refused('rwkvGrid', { soc: 'rpi5-nvme', model: '../rwkv5-en' }, /^rwkvGrid: model: must be a model id/);
    refused('recordRwkvPlan', { ...Q, tokenMs: -1 }, /^recordRwkvPlan: tokenMs: must be more than 0$/);
    refused('listRwkvRuns', { all: true }, /^listRwkvRuns: payload: unknown field "all"$/);
    const live = { kind: 'rwkv-live', soc: 'rpi5-nvme', model: 'rwkv5-en', techniques: ALL, prompt: 'Hi', tokens: 4 };
    refused('startJob', { ...live, tokens: 0 }, /^startJob: tokens: must be at least 1$/);
    refused('startJob', { ...live, prompt: '' }, /^startJob: prompt: must be at least 1 character/);
    refused('startJob', { kind: 'rwkv-quality', model: 'rwkv5-en', limit: 0.5 }, /^startJob: limit: expected int/);
    assert.deepEqual(validateCall('rwkvWhatIf', Q).payload, Q);
  });
});

describe('WorkbenchService: RWKV', () => {
  const s = new WorkbenchService('test');
  after(() => s.close());
  const ctx = (events: JobEvent[] = []) => ({
    jobId: 'job-1',
    emit: (e: JobEvent) => void events.push(e),
    signal: new AbortController().signal,
  });

  test('listModels lists rwkv5-en as an RWKV model; its trained low-rank siblings are not models of their own', async () => {
    const models = await s.listModels();
    const rwkv = models.filter((m) => m.family === 'rwkv');
    assert.deepEqual(
      rwkv.map((m) => m.id),
      ['rwkv5-en'],
    );
    assert.deepEqual(rwkv[0].rwkv, { version: '5.2', embd: 256, ffn: 896, vocab: 8192, heads: 4, headSize: 64 });
    assert.ok(
      models.some((m) => m.id === 'bert-spam' && m.family === 'bert'),
      'BERT models stay',
    );
  });

  test('What-if: INT8 shrinks memory, a small budget does not fit, a latency target is judged; bad settings are user errors', async () => {
    const all = await s.rwkvWhatIf(Q);
    assert.equal(all.family, 'rwkv');
    assert.ok(all.prediction.tokenMs > 0 && all.prediction.tokensPerSecond > 0);
    assert.ok(all.events.some((e) => e.token !== undefined && e.part === 'ffn'));
    assert.ok(all.events.some((e) => e.stage === 'stall'));
    assert.equal(all.meetsLatency, null);
    const int8 = await s.rwkvWhatIf({ ...Q, techniques: { ...ALL, int8: true } });
    assert.ok(int8.prediction.resident.weights < all.prediction.resident.weights);
    const dense = await s.rwkvWhatIf({ ...Q, memoryMb: 2, techniques: NONE });
    assert.equal(dense.fits, false);
    assert.ok(dense.prediction.peakBytes > all.prediction.peakBytes);
    const slow = await s.rwkvWhatIf({ ...Q, tokenMs: 0.01 });
    assert.equal(slow.meetsLatency, false);
    await assert.rejects(
      s.rwkvWhatIf({ ...Q, techniques: { ...ALL, stream: true } }),
      /^UserError: stream dense .* does not combine with lowrank/,
    );
    await assert.rejects(s.rwkvWhatIf({ ...Q, model: 'bert-spam' }), /bert-spam is not an RWKV model/);
  });

  test("the planner's grid is read in the background, then What-if carries the pick for the budget", async () => {
    const limit = 3;
    // Qualities for every distinct grid setting, stored as lm-eval stores them (measuring 36 settings would take minutes):
    // perplexity falls with each technique turned off, so the pick is the least compressed setting that fits.
    const db = ExperimentStore.open();
    const checksum = rwkvChecksum(DIR);
    for (const p of planningGrid(DIR).points) {
      const spec = { ...p.setting.spec };
      delete spec.embCache;
      const configHash = techniquesHash(qualityKey(spec, lowRankSource(DIR, false, spec)));
      const perplexity = 30 + 5 * ['lowrank', 'sparseFfn', 'clusterHead', 'int8'].filter((k) => k in spec).length;
      for (const [metric, value] of [
        ['perplexity', perplexity],
        ['lastWordAccuracy', 0.1],
      ] as const)
        db.putQuality({
          model: checksum,
          task: LM_TASK,
          split: `test~strat${limit}`,
          configHash,
          metric,
          config: '{}',
          value,
          count: 100,
          seconds: 0,
        });
    }
    db.close();
    let v = await s.rwkvWhatIf({ ...Q, qualityLimit: limit });
    for (let i = 0; v.planStatus === 'preparing' && i < 300; i++) {
      await new Promise((r) => setTimeout(r, 100));
      v = await s.rwkvWhatIf({ ...Q, qualityLimit: limit });
    }
    assert.equal(v.planStatus, 'ready');
    assert.equal(v.qualityLimit, limit);
    const pick = v.plan!.pick!;
    assert.ok(pick, JSON.stringify(v.plan));
    assert.ok(pick.peakBytes <= 8 * 2 ** 20 && pick.fits);
    assert.ok(v.plan!.optimum && v.plan!.gapPct >= 0 && v.plan!.candidates > 100);
    const roomy = await s.rwkvWhatIf({ ...Q, memoryMb: 64, qualityLimit: limit });
    assert.ok(roomy.plan!.pick!.quality!.perplexity <= pick.quality!.perplexity, 'more memory never plans a worse quality');
    const grid = await s.rwkvGrid({ soc: Q.soc, model: Q.model, qualityLimit: limit });
    assert.equal(grid.points.filter((p) => p.baseline).length, 9);
    assert.ok(grid.points.filter((p) => !p.baseline && p.quality).length > 100);
  });

  test('a quality job measures the toggled setting; What-if then reads it', async () => {
    const progress: JobEvent[] = [];
    const r = (await s.runJob({ kind: 'rwkv-quality', model: 'rwkv5-en', techniques: ALL, limit: 2 }, ctx(progress))) as {
      quality: { perplexity: number; split: string };
    };
    assert.ok(r.quality.perplexity > 1);
    assert.equal(r.quality.split, 'test~strat2');
    assert.ok(progress.some((e) => e.type === 'progress'));
    const v = await s.rwkvWhatIf({ ...Q, qualityLimit: 2 });
    assert.equal(v.quality?.perplexity, r.quality.perplexity);
  });

  test('a live generation streams its tokens and trace events, and is stored with a recorded plan', async () => {
    const events: JobEvent[] = [];
    const r = (await s.runJob(
      { kind: 'rwkv-live', soc: 'rpi5-nvme', model: 'rwkv5-en', techniques: ALL, prompt: 'The ship', tokens: 6, slowdown: 1 },
      ctx(events),
    )) as RwkvLiveResult;
    const tokens = events.flatMap((e) => (e.type === 'tokens' ? e.tokens : []));
    assert.deepEqual(
      tokens.map((t) => t.index),
      [0, 1, 2, 3, 4, 5],
    );
    assert.equal(tokens.map((t) => t.text).join(''), r.text);
    assert.ok(events.some((e) => e.type === 'trace' && e.events.length > 0));
    assert.equal(r.tokens, 6);
    assert.ok(r.embCache && r.embCache.lookups > 0 && r.cacheContents.length > 0);
    const plan = await s.recordRwkvPlan({ ...Q, tokenMs: 20 });
    const runs = await s.listRwkvRuns();
    assert.deepEqual(
      runs.map((x) => [x.id, x.kind]),
      [
        [plan.id, 'plan'],
        [r.runId, 'live'],
      ],
    );
    assert.equal(runs[1].text, r.text);
  });
});
