import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { parseBits, writeStore } from '../engine/families/bert/shard-store.js';
import { ROOT, shardlab, shardlabJson, SPAM_MODEL, tempDir } from './helpers.js';
import { assertRefused } from './refused.js';
import { assertAllRefused, jsonInOneProcess } from './refusals.js';

interface RunOut {
  planner: string;
  layers: number;
  slices: number;
  makespanMs: number;
  stallMs: number;
  ioBusyMs: number;
  computeBusyMs: number;
  persistentBytes: number;
  accuracy?: number;
}

interface WarmUp {
  done: boolean;
  ms: number;
  steps: { what: string; ms: number }[];
  pageCache: string;
}

describe('shardlab run', () => {
  /** A store with fp32 (4 and 32 bits) and one without (2 and 4 bits). */
  let store: string;
  let noFp32: string;
  let config: string;
  before(() => {
    store = join(tempDir(), 'store');
    noFp32 = join(tempDir(), 'store-2-4');
    // What `shardlab shard --bits B --no-eval` writes (cli-shard.test runs that command), without two processes.
    writeStore(SPAM_MODEL, store, parseBits('4,32'));
    writeStore(SPAM_MODEL, noFp32, parseBits('2,4'));
    config = join(tempDir(), 'c.json');
    writeFileSync(config, JSON.stringify({ layers: 2, slices: 4, bits: 4 }));
  });

  test('prints the run summary as JSON with the documented keys, no accuracy without --eval, and writes a trace', () => {
    const trace = join(tempDir(), 'trace.json');
    const out = shardlabJson<RunOut>(
      'run',
      '--soc',
      'odroid-n2plus',
      '--model',
      store,
      '--paradigm',
      'layerwise',
      '--json',
      '--trace',
      trace,
    );
    for (const k of ['makespanMs', 'stallMs', 'ioBusyMs', 'computeBusyMs', 'persistentBytes', 'peakBytes']) assert.ok(k in out, k);
    assert.ok(!('accuracy' in out), 'accuracy is only reported with --eval');
    assert.ok(out.makespanMs > out.computeBusyMs && out.stallMs > 0);
    const t = JSON.parse(readFileSync(trace, 'utf8'));
    assert.ok(t.traceEvents.some((e: { ph: string; cat: string }) => e.ph === 'X' && e.cat === 'io'));
  });

  test('a checkpoint directory is sharded on first use; throttles change the timing', () => {
    const hold = ['run', '--soc', 'rpi4-sd', '--model', SPAM_MODEL, '--paradigm', 'hold', '--bits', '4', '--json'];
    const loadExec = ['run', '--soc', 'rpi4-sd', '--model', store, '--paradigm', 'load-exec', '--json'];
    // The four runs (virtual time: modeled, whatever else the process does) by the CLI's main in one process (refusals.ts).
    const [base, slow, fast, io] = jsonInOneProcess<RunOut>([
      hold,
      [...hold, '--cores', '1', '--clock-ghz', '0.6'],
      [...loadExec, '--io-mbps', '400'],
      loadExec,
    ]);
    assert.equal(base.stallMs, 0);
    assert.ok(slow.computeBusyMs > 3 * base.computeBusyMs);
    assert.ok(fast.ioBusyMs < io.ioBusyMs / 5);
  });

  test('--config runs on a store without fp32 (no default --bits check), and --eval adds the accuracy', () => {
    const args = ['run', '--soc', 'odroid-n2plus', '--model', noFp32, '--config', config, '--buffer-kb', '64', '--json'];
    const [plain, e] = jsonInOneProcess<RunOut>([args, [...args, '--eval', '--limit', '16']]);
    assert.equal(plain.planner, 'config');
    assert.equal(plain.layers, 2);
    assert.equal(plain.slices, 4);
    assert.ok(!('accuracy' in plain));
    assert.ok(plain.persistentBytes > 0 && plain.persistentBytes <= 64 * 1024);
    assert.equal(typeof e.accuracy, 'number');
    assert.ok(e.accuracy! >= 0 && e.accuracy! <= 1);
    assert.equal(e.makespanMs, plain.makespanMs);
  });

  test('--mode real warms up before the clock starts and says what it did; --no-warm-up starts cold', () => {
    const args = ['run', '--soc', 'odroid-n2plus', '--model', store, '--config', config, '--mode', 'real', '--json'];
    const virtual = shardlabJson<RunOut>('run', '--soc', 'odroid-n2plus', '--model', store, '--config', config, '--json');
    assert.ok(!('warmUp' in virtual) && !('predictedMakespanMs' in virtual), 'virtual time has nothing to warm');
    const warm = shardlabJson<RunOut & { warmUp: WarmUp; predictedMakespanMs: number }>(...args);
    assert.equal(warm.warmUp.done, true);
    assert.equal(warm.warmUp.steps.length, 5);
    assert.match(warm.warmUp.steps[0].what, /onnxruntime sessions/);
    assert.match(warm.warmUp.pageCache, /page cache/);
    assert.equal(warm.predictedMakespanMs, virtual.makespanMs);
    const cold = shardlabJson<RunOut & { warmUp: WarmUp }>(...args, '--no-warm-up');
    assert.deepEqual({ ...cold.warmUp, pageCache: '' }, { done: false, ms: 0, steps: [], pageCache: '' });
    const text = shardlab(...args.slice(0, -1));
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /makespan .* \(modeled [\d.]+ ms, real\/modeled [\d.]+\)/);
    assert.match(text.stdout, /warm-up +[\d.]+ ms before the clock started/);
  });

  test('logits --reference and eval also accept a shard store', () => {
    const r = shardlab('logits', '--model', store, '--reference', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).maxAbsDiff <= 1e-4);
  });

  test('bad input is refused with one line and exit code 2', () => {
    assertRefused(['run', '--soc', 'odroid-n2plus', '--model', store], /exactly one of --config FILE or --paradigm/);
    // The rest through the CLI's main in one process (refusals.ts), each checked the same way.
    assertAllRefused([
      [['run', '--soc', 'odroid-n2plus', '--model', store, '--paradigm', 'stream'], /--paradigm must be one of load-exec, layerwise, hold/],
      [
        ['run', '--soc', 'odroid-n2plus', '--model', store, '--paradigm', 'layerwise', '--bits', '3'],
        /--bits 3: the shard store holds 4, 32/,
      ],
      [
        ['run', '--soc', 'odroid-n2plus', '--model', noFp32, '--paradigm', 'layerwise'],
        /--bits 32 \(the default\): the shard store holds 2, 4/,
      ],
      [['run', '--soc', 'odroid-n2plus', '--model', noFp32, '--config', config, '--bits', '4'], /--bits goes with --paradigm/],
      [['run', '--soc', 'odroid-n2plus', '--model', store, '--paradigm', 'layerwise', '--unit', 'gpu'], /odroid-n2plus has no GPU/],
      [['run', '--soc', 'odroid-n2plus', '--model', store, '--paradigm', 'layerwise', '--mode', 'fast'], /--mode must be virtual or real/],
      [
        ['run', '--soc', 'odroid-n2plus', '--model', store, '--paradigm', 'layerwise', '--no-warm-up'],
        /--no-warm-up goes with --mode real/,
      ],
      [
        ['run', '--soc', 'rpi5-nvme', '--model', join(ROOT, 'fixtures/models/rwkv5-en'), '--mode', 'real', '--no-warm-up'],
        /--no-warm-up is for BERT models/,
      ],
    ]);
  });
});
