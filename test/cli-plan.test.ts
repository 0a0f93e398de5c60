import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { numberList } from '../engine/cli/commands/sweep.js';
import { DEFAULT_BUFFER_KB } from '../engine/pipeline/plan.js';
import { parseBits, writeStore } from '../engine/families/bert/shard-store.js';
import { shardlabJson, SPAM_MODEL, tempDir } from './helpers.js';
import { assertRefused } from './refused.js';
import { assertAllRefused, jsonInOneProcess, shardlabInOneProcess } from './refusals.js';

describe('shardlab plan', () => {
  let store: string;
  before(() => {
    store = join(tempDir(), 'store');
    // What `shardlab shard --bits 2,4 --no-eval` writes (cli-shard.test runs that command), without a process.
    writeStore(SPAM_MODEL, store, parseBits('2,4'));
  });

  test('--target-ms takes a decimal target and the JSON echoes it with the plan and its prediction', () => {
    const out = shardlabJson<{
      planner: string;
      targetMs: number;
      layers: number;
      slices: number;
      predictedMakespanMs: number;
      shards: unknown[];
    }>('plan', '--soc', 'odroid-n2plus', '--model', store, '--target-ms', '87.5', '--planner', 'sti-uniform', '--json');
    assert.equal(out.planner, 'sti-uniform');
    assert.equal(out.targetMs, 87.5);
    assert.equal(typeof out.predictedMakespanMs, 'number');
    assert.ok(out.predictedMakespanMs > 0);
    assert.equal(out.shards.length, out.layers * out.slices);
  });

  test('a ranking planner on a model never profiled profiles it first, says so, then plans; later plans and profile reuse it', () => {
    const db = join(tempDir(), 'fresh.db');
    const plan = ['plan', '--soc', 'odroid-n2plus', '--model', store, '--target-ms', '60', '--buffer-kb', '400', '--planner', 'sti'];
    const args = [...plan, '--importance', 'sti:4/2', '--limit', '8', '--db', db];
    // The three commands by the CLI's main in one process (refusals.ts); what they share is the database.
    const [first, again, profiled] = shardlabInOneProcess([
      args,
      [...args, '--json'],
      // The very profile `shardlab profile --limit 8` stores: nothing left to evaluate.
      ['profile', '--model', store, '--high', '4', '--low', '2', '--limit', '8', '--db', db, '--json'],
    ]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /no sti:4\/2 importance profile of .* on spam dev~strat8 yet; profiling it first \(32 shards\)/);
    assert.match(first.stdout, /^sti on odroid-n2plus, target 60 ms, buffer 400 KB/);
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /profiling/);
    assert.equal((JSON.parse(again.stdout) as { planner: string }).planner, 'sti');
    assert.equal(profiled.status, 0, profiled.stderr);
    const profile = JSON.parse(profiled.stdout) as { split: string; evaluated: number };
    assert.deepEqual([profile.split, profile.evaluated], ['dev~strat8', 0]);
    // A method the store cannot serve is refused with one line, before any work.
    assertRefused([...plan, '--db', db], /importance sti:32\/2: the shard store holds 2, 4 bits/);
  });

  test('a target that is not a positive number is refused with one line and exit code 2', () => {
    const plan = ['plan', '--soc', 'odroid-n2plus', '--model', store, '--planner', 'sti-uniform', '--target-ms'];
    // Through the CLI's main in one process (refusals.ts), each checked as assertRefused does.
    assertAllRefused([
      [[...plan, '0'], /--target-ms takes a positive number, got "0"/],
      [[...plan, 'abc'], /--target-ms takes a positive number, got "abc"/],
      [[...plan, '-5'], /--target-ms takes a positive number, got "-5"/],
    ]);
  });
});

describe('shardlab sweep --targets-ms', () => {
  test('takes decimals, in lists and ranges', () => {
    assert.deepEqual(numberList('--targets-ms')('87.5,100:101:0.5'), [87.5, 100, 100.5, 101]);
    assert.deepEqual(numberList('--buffers-kb', { zero: true })('0,12.5'), [0, 12.5]);
  });

  test('refuses zero, negative and non-numeric targets with one line and exit code 2', () => {
    const sweep = ['sweep', '--socs', 'odroid-n2plus', '--model', SPAM_MODEL, '--targets-ms'];
    assertAllRefused([
      [[...sweep, '50,0'], /--targets-ms takes numbers above 0, got 0/],
      [[...sweep, '-10:10:5'], /--targets-ms takes numbers above 0, got -10/],
      [[...sweep, 'fast'], /--targets-ms takes numbers or from:to:step ranges/],
      [[...sweep, '50', '--buffers-kb', '-1'], /--buffers-kb takes numbers >= 0, got -1/],
    ]);
  });
});

describe('shardlab run --planner and models by name', () => {
  const where = ['--soc', 'odroid-n2plus', '--model', 'bert-spam', '--target-ms', '60'];

  test('--model takes a bundled model by name; run --planner executes the plan that plan gives, with the one buffer default', () => {
    // Both by the CLI's main in one process (refusals.ts).
    const [plan, run] = jsonInOneProcess<{
      planner: string;
      bufferKb: number;
      layers: number;
      slices: number;
      predictedMakespanMs: number;
      makespanMs: number;
      persistentBytes: number;
    }>([
      ['plan', ...where, '--planner', 'sti-uniform', '--json'],
      ['run', ...where, '--planner', 'sti-uniform', '--json'],
    ]);
    assert.equal(plan.bufferKb, DEFAULT_BUFFER_KB);
    assert.equal(run.planner, 'sti-uniform');
    assert.equal(run.layers, plan.layers);
    assert.equal(run.slices, plan.slices);
    assert.equal(run.persistentBytes, plan.persistentBytes);
    assert.ok(plan.persistentBytes > 0, 'the default buffer preloads shards');
    // The executor in virtual time keeps the planned schedule.
    assert.ok(Math.abs(run.makespanMs - plan.predictedMakespanMs) < 1e-6, `${run.makespanMs} vs ${plan.predictedMakespanMs}`);
  });

  test('run --eval reports the accuracy with its 95 % interval', () => {
    // Both by the CLI's main in one process (refusals.ts).
    const [json, text] = shardlabInOneProcess([
      ['run', ...where, '--planner', 'stdpl-4', '--eval', '--limit', '20', '--json'],
      ['run', ...where, '--planner', 'stdpl-4', '--eval', '--limit', '20'],
    ]);
    assert.equal(json.status, 0, json.stderr);
    const run = JSON.parse(json.stdout) as { accuracy: number; examples: number; accuracyInterval: { low: number; high: number } };
    assert.equal(run.examples, 20);
    assert.ok(run.accuracyInterval.low <= run.accuracy && run.accuracy <= run.accuracyInterval.high);
    assert.ok(run.accuracyInterval.high - run.accuracyInterval.low > 0.05, 'twenty examples leave a wide interval');
    assert.match(text.stdout, /accuracy\s+\d+\.\d % ± \d+\.\d \(95 %, 20 dev examples\)/);
  });

  test('unknown names and half-given plans are refused with one line', () => {
    assertAllRefused([
      [
        ['plan', '--soc', 'odroid-n2plus', '--model', 'bert-spamm', '--target-ms', '60'],
        /no model "bert-spamm": .*bundled model \(bert-sotu-era, bert-spam(, rwkv5-en[^)]*)?\)/,
      ],
      [['run', '--soc', 'odroid-n2plus', '--model', 'bert-spam', '--planner', 'stdpl-4'], /--planner stdpl-4 needs --target-ms/],
      [[...['run'], ...where, '--paradigm', 'layerwise'], /one plan: --planner\/--target-ms, or --config FILE, or --paradigm/],
      [['run', ...where, '--bits', '4'], /--bits goes with --paradigm/],
    ]);
  });
});
