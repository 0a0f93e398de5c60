/** RWKV-edge on the modeled SoCs: the task graph, the on-storage layout, per-token runs, predictions and plans. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { VirtualClock } from '../engine/pipeline/clock.js';
import { placeTasks, runTaskGraph, type GraphTask } from '../engine/pipeline/task-graph.js';
import { CostModel, resolveSettings } from '../engine/soc/cost.js';
import { getSocProfile } from '../engine/soc/load.js';
import { assemble } from '../engine/families/rwkv/compress/assemble.js';
import { settingFor } from '../engine/families/rwkv/open.js';
import { generate } from '../engine/families/rwkv/generate.js';
import { baselineSetting } from '../engine/families/rwkv/edge/baselines.js';
import { openEdge } from '../engine/families/rwkv/edge/open.js';
import { predictEdge } from '../engine/families/rwkv/edge/predict.js';
import { residentOf } from '../engine/families/rwkv/edge/resident.js';
import { runEdge } from '../engine/families/rwkv/edge/run.js';
import { EdgeStore } from '../engine/families/rwkv/edge/store.js';
import type { EdgeSetting } from '../engine/families/rwkv/edge/tokens.js';
import { writeModelDir } from '../engine/families/rwkv/model-dir.js';
import { randomWeights } from '../engine/families/rwkv/random-model.js';
import { Gpt2Bpe, GPT2_EOT } from '../engine/families/rwkv/tokenizer.js';
import { ROOT, shardlabJson, tempDir, TEST_HOME } from './helpers.js';
import { assertRefusedHere, shardlabHere, shardlabHereJson } from './cli-in-process.js';

const FIXTURE = join(ROOT, 'fixtures/models/rwkv5-en');
process.env.SHARDLAB_HOME = TEST_HOME;

const costOn = (soc: string) => {
  const p = getSocProfile(soc);
  return new CostModel(p, resolveSettings(p));
};

type Opened = Awaited<ReturnType<typeof openEdge>>;

async function runOn(m: Opened, setting: EdgeSetting, soc = 'rpi5-nvme', count = 8) {
  const tok = m.lm.tokenizer;
  const prompt = [tok.eot, ...tok.encode('The old man and the')];
  const r = await runEdge({ lm: m.lm, store: m.store, setting, cost: costOn(soc), clock: new VirtualClock(), prompt, count });
  return { r, prompt, dims: m.lm.weights };
}

async function run(setting: EdgeSetting, soc = 'rpi5-nvme', count = 8) {
  const m = await openEdge(FIXTURE, setting);
  try {
    return await runOn(m, setting, soc, count);
  } finally {
    await m.release();
  }
}

describe('the two-lane task graph', () => {
  test('running it in virtual time places every task where the prediction does', async () => {
    // Reads that wait for compute and compute that waits for reads, across two batches.
    const batches: GraphTask[][] = [
      [
        { lane: 'cpu', stage: 'compute', layer: 0, slice: -1, bits: 16, bytes: 0, us: 5, after: [] },
        { lane: 'io', stage: 'io', layer: 0, slice: -1, bits: 16, bytes: 10, us: 30, after: [0] },
        { lane: 'cpu', stage: 'decompress', layer: 0, slice: -1, bits: 16, bytes: 10, us: 4, after: [1] },
        { lane: 'io', stage: 'io', layer: 1, slice: -1, bits: 16, bytes: 10, us: 7, after: [] },
        { lane: 'cpu', stage: 'compute', layer: 1, slice: -1, bits: 16, bytes: 0, us: 6, after: [3] },
      ],
      [
        { lane: 'io', stage: 'io', layer: 0, slice: -1, bits: 16, bytes: 10, us: 3, after: [4], token: 1 },
        { lane: 'cpu', stage: 'compute', layer: 0, slice: -1, bits: 16, bytes: 0, us: 2, after: [5], token: 1 },
      ],
    ];
    const predicted = placeTasks(batches.flat());
    const ran = await runTaskGraph({ clock: new VirtualClock(), batch: async (b) => batches[b], work: () => {} });
    const key = (e: { stage: string; start: number; end: number; layer: number }) => `${e.stage} ${e.layer} ${e.start}-${e.end}`;
    assert.deepEqual(ran.events.map(key).sort(), predicted.events.map(key).sort());
    assert.equal(ran.makespanUs, predicted.makespanUs);
    assert.ok(predicted.stallUs > 0, 'the CPU waited for the read its predictor asked for');
  });
});

describe('the on-storage layout', () => {
  for (const int8 of [false, true])
    test(`picked FFN neurons, head clusters and layer cores read back as the weights (${int8 ? 'INT8' : 'fp16'})`, () => {
      const spec = settingFor(FIXTURE, { techniques: 'sparse-ffn,cluster-head' }).spec;
      const a = assemble(FIXTURE, spec);
      const store = EdgeStore.open(a.weights, a.clusterHead, int8, { test: 'layout' });
      try {
        const { embd: D, ffn: F } = a.weights;
        const tol = (x: number, scale: number) => (int8 ? scale / 127 : Math.abs(x) * 2e-3 + 1e-6);
        const mask = new Uint8Array(F);
        [3, 4, 5, 100, F - 1].forEach((i) => (mask[i] = 1));
        const rows = store.decode(store.read('ffn.bin', store.neuronRegions(2, mask)));
        const key = a.weights.tensors.get('blocks.2.ffn.key.weight')!.data;
        const value = a.weights.tensors.get('blocks.2.ffn.value.weight')!.data;
        [3, 4, 5, 100, F - 1].forEach((i, k) => {
          const kMax = Math.max(...key.subarray(i * D, (i + 1) * D).map(Math.abs));
          for (let d = 0; d < D; d += 17) {
            assert.ok(Math.abs(rows[2 * k * D + d]! - key[i * D + d]!) <= tol(key[i * D + d]!, kMax), `key row ${i}`);
            const v = value[d * F + i]!;
            assert.ok(Math.abs(rows[(2 * k + 1) * D + d]! - v) <= tol(v, 10), `value column ${i}`);
          }
        });
        assert.equal(store.neuronRegions(2, mask).length, 3, 'neurons 3-5 are one run');
        const head = a.weights.tensors.get('head.weight')!.data;
        const members = a.clusterHead!.members[7]!;
        const got = store.decode(store.read('head.bin', store.headRegions([7])));
        assert.equal(got.length, members.length * D);
        const t = members[members.length - 1]!;
        const hMax = Math.max(...head.subarray(t * D, (t + 1) * D).map(Math.abs));
        for (let d = 0; d < D; d++)
          assert.ok(Math.abs(got[(members.length - 1) * D + d]! - head[t * D + d]!) <= tol(head[t * D + d]!, hMax));
        const core = store.decodeCore(1, store.read('core.bin', [store.coreRegion(1)]));
        const mix = a.weights.tensors.get('blocks.1.att.time_mix_k')!.data;
        assert.ok(Math.abs(core.get('blocks.1.att.time_mix_k')![9]! - mix[9]!) <= Math.abs(mix[9]!) * 2e-3 + 1e-6);
      } finally {
        store.close();
      }
    });
});

describe('shardlab run for RWKV (per-token execution)', () => {
  test('the pipeline generates what the model generates, and its reads are the picked rows', async () => {
    const setting = { spec: settingFor(FIXTURE, { techniques: 'all' }).spec };
    // One opened model: the pipeline's run, then the model's own greedy generation from the zero state.
    const m = await openEdge(FIXTURE, setting);
    const plain: number[] = [];
    let ran: Awaited<ReturnType<typeof runOn>>;
    try {
      ran = await runOn(m, setting, 'rpi4-sd', 8);
      const p = ran.prompt;
      await generate(m.lm.runner, p[0]!, p.slice(1), 8, { temperature: 0, topP: 1, seed: 1 }, (id) => plain.push(id));
    } finally {
      await m.release();
    }
    const { r, prompt, dims } = ran;
    assert.deepEqual(r.generated, plain, 'same greedy tokens as the model run without the pipeline');
    assert.equal(r.steps.length, prompt.length + 7);
    assert.ok(r.ioBytesPerToken > 0 && r.stallMs > 0, 'the picked neurons and head clusters are read, and the CPU waits for them');
    assert.ok(
      r.events.every((e) => e.token !== undefined),
      'every event carries its token',
    );
    const parts = new Set(r.events.map((e) => e.part));
    for (const p of ['time-mix', 'predictor', 'ffn', 'head-l1', 'head', 'embedding']) assert.ok(parts.has(p), p);
    assert.equal(r.persistentBytes, residentOf(dims, setting).total);
    assert.ok(r.peakBytes > r.persistentBytes);
    assert.ok(r.embCache!.lookups === r.steps.length);
  });

  test('a second run on the same opened model starts from the zero state again', async () => {
    const setting = { spec: {} };
    const m = await openEdge(FIXTURE, setting);
    try {
      const prompt = [m.lm.tokenizer.eot, ...m.lm.tokenizer.encode('It was a dark')];
      const go = () => runEdge({ lm: m.lm, store: m.store, setting, cost: costOn('pixel7'), clock: new VirtualClock(), prompt, count: 4 });
      assert.deepEqual((await go()).generated, (await go()).generated);
    } finally {
      await m.release();
    }
  });

  test('the dense model streamed holds far less and runs far slower than held; the prediction is the run', async () => {
    const held = await run(baselineSetting(FIXTURE, 'dense-fp16'));
    const streamed = await run(baselineSetting(FIXTURE, 'dense-streamed'));
    assert.ok(streamed.r.persistentBytes < held.r.persistentBytes / 10);
    assert.ok(streamed.r.tokensPerSecond < held.r.tokensPerSecond / 5);
    assert.equal(held.r.ioBytesPerToken, 0);
    // Sizes do not depend on the data without techniques: the predicted steady state is every token's latency.
    for (const [name, x] of [
      ['dense-fp16', held],
      ['dense-streamed', streamed],
    ] as const) {
      const p = predictEdge(costOn('rpi5-nvme'), x.dims, baselineSetting(FIXTURE, name), {
        density: 1,
        headTouched: 1,
        embHitRate: 0,
        sources: {},
      });
      assert.ok(Math.abs(p.tokenMs - x.r.tokenLatencyMsP50) < 1e-6, `${name}: predicted ${p.tokenMs}, ran ${x.r.tokenLatencyMsP50}`);
      assert.equal(p.persistentBytes, x.r.persistentBytes);
    }
  });

  test('the CLI prints the figures and a Chrome trace with a track per stage and the token on every event', () => {
    const trace = join(tempDir(), 'rwkv.json');
    const out = shardlabJson(
      'run',
      '--soc',
      'pixel7',
      '--model',
      FIXTURE,
      '--techniques',
      'all,int8',
      '--tokens',
      '4',
      '--trace',
      trace,
      '--json',
    );
    for (const k of [
      'tokensPerSecond',
      'tokenLatencyMsP50',
      'tokenLatencyMsP99',
      'firstTokenMs',
      'stallMs',
      'ioBytesPerToken',
      'persistentBytes',
      'peakBytes',
    ])
      assert.equal(typeof out[k], 'number', k);
    assert.equal(out.tokens, 4);
    const t = JSON.parse(readFileSync(trace, 'utf8')) as {
      traceEvents: { ph: string; name: string; args: { name?: string; token?: number } }[];
    };
    const threads = t.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args.name);
    assert.deepEqual(threads, ['io', 'decompress', 'compute', 'stall']);
    const complete = t.traceEvents.filter((e) => e.ph === 'X');
    assert.ok(complete.length > 100 && complete.every((e) => Number.isInteger(e.args.token)));
  });

  test('bad combinations are refused with one line', async () => {
    await assertRefusedHere(
      ['run', '--soc', 'rpi5-nvme', '--model', FIXTURE, '--stream', '--techniques', 'all'],
      /--stream .* does not combine/,
    );
    await assertRefusedHere(['run', '--soc', 'rpi5-nvme', '--model', FIXTURE, '--paradigm', 'hold'], /--paradigm is for BERT models/);
    await assertRefusedHere(
      ['run', '--soc', 'rpi5-nvme', '--model', FIXTURE, '--planner', 'sti', '--target-ms', '5'],
      /--planner and --target-ms are for BERT/,
    );
    await assertRefusedHere(
      ['run', '--soc', 'rpi5-nvme', '--model', join(ROOT, 'fixtures/models/bert-spam'), '--paradigm', 'hold', '--int8'],
      /--int8 is for RWKV models/,
    );
    await assertRefusedHere(['plan', '--soc', 'rpi5-nvme', '--model', FIXTURE], /needs --memory-mb/);
    await assertRefusedHere(
      ['plan', '--soc', 'rpi5-nvme', '--model', FIXTURE, '--memory-mb', '8', '--target-ms', '5'],
      /--target-ms is for BERT/,
    );
    await assertRefusedHere(
      ['plan', '--soc', 'rpi5-nvme', '--model', join(ROOT, 'fixtures/models/bert-spam'), '--memory-mb', '8'],
      /are for RWKV models/,
    );
  });
});

describe('shardlab plan for RWKV', () => {
  let model = '';
  const db = join(tempDir(), 'plan.db');
  before(() => {
    // A small model (2 layers, width 32, 300 tokens) so measuring every grid point takes seconds.
    const bpe = Gpt2Bpe.load();
    const common = [...new Set(bpe.encode(' the of and to in a that is for be this with as on by we it have our'))];
    const vocab = [GPT2_EOT, ...Array.from({ length: 256 }, (_, b) => bpe.byteId(b)), ...common].slice(0, 300);
    model = join(tempDir(), 'rwkv-plan');
    writeModelDir(
      model,
      randomWeights({ version: '5.2', layers: 2, embd: 32, headSize: 8, ffn: 64, vocab: vocab.length, groupNormEps: 64e-5 }, 5),
      {
        f16: true,
      },
    );
    writeFileSync(join(model, 'vocab.json'), JSON.stringify(vocab));
  });

  test('more memory never lowers the best quality that fits, the pick is within the budget, the gap to the exhaustive optimum is reported, and too little memory says so', async () => {
    // In process (the CLI's process path is the trace test's): the first measures the grid into the database, the rest read it.
    const plans = [];
    for (const mb of [0.05, 0.1, 0.2, 1])
      plans.push(
        await shardlabHereJson<{
          pick?: { perplexity: number; peakBytes: number };
          optimum?: { perplexity: number };
          gapPct: number;
          gridPoints: number;
          why?: string;
        }>('plan', '--soc', 'rpi5-nvme', '--model', model, '--memory-mb', String(mb), '--limit', '2', '--db', db, '--json'),
      );
    let last = Infinity;
    for (const [i, p] of plans.entries()) {
      if (!p.pick) continue;
      assert.ok(p.pick.peakBytes <= [0.05, 0.1, 0.2, 1][i]! * 2 ** 20);
      // A larger budget keeps every smaller budget's options, so the best of them is never worse.
      assert.ok(p.optimum!.perplexity <= last + 1e-9);
      last = p.optimum!.perplexity;
      assert.ok(p.gapPct >= 0 && p.optimum!.perplexity <= p.pick.perplexity);
    }
    assert.ok(plans[3]!.pick, 'a megabyte holds this model');
    const none = await shardlabHere('plan', '--soc', 'rpi5-nvme', '--model', model, '--memory-mb', '0.001', '--limit', '2', '--db', db);
    assert.equal(none.status, 1);
    assert.match(none.stdout, /nothing fits in 0\.00 MiB: the smallest setting needs/);
  });
});
