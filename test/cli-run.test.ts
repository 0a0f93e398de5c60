import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { shardlab, SPAM_MODEL, tempDir } from './helpers.js';
import { assertRefused } from './refused.js';

describe('shardlab run', () => {
  let store: string;
  before(() => {
    store = join(tempDir(), 'store');
    const r = shardlab('shard', '--model', SPAM_MODEL, '--out', store, '--bits', '4,32', '--no-eval', '--json');
    assert.equal(r.status, 0, r.stderr);
  });

  test('prints the run summary as JSON with the documented keys, and writes a trace', () => {
    const trace = join(tempDir(), 'trace.json');
    const r = shardlab('run', '--soc', 'odroid-n2plus', '--model', store, '--paradigm', 'layerwise', '--json', '--trace', trace);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    for (const k of ['makespanMs', 'stallMs', 'ioBusyMs', 'computeBusyMs', 'persistentBytes', 'peakBytes', 'accuracy'])
      assert.ok(k in out, k);
    assert.equal(out.accuracy, null);
    assert.ok(out.makespanMs > out.computeBusyMs && out.stallMs > 0);
    const t = JSON.parse(readFileSync(trace, 'utf8'));
    assert.ok(t.traceEvents.some((e: { ph: string; cat: string }) => e.ph === 'X' && e.cat === 'io'));
  });

  test('a checkpoint directory is sharded on first use; throttles change the timing; --eval adds accuracy', () => {
    const base = JSON.parse(
      shardlab('run', '--soc', 'rpi4-sd', '--model', SPAM_MODEL, '--paradigm', 'hold', '--bits', '4', '--json').stdout,
    );
    const slow = JSON.parse(
      shardlab(
        'run',
        '--soc',
        'rpi4-sd',
        '--model',
        SPAM_MODEL,
        '--paradigm',
        'hold',
        '--bits',
        '4',
        '--cores',
        '1',
        '--clock-ghz',
        '0.6',
        '--json',
      ).stdout,
    );
    assert.equal(base.stallMs, 0);
    assert.ok(slow.computeBusyMs > 3 * base.computeBusyMs);
    const io = JSON.parse(
      shardlab('run', '--soc', 'rpi4-sd', '--model', store, '--paradigm', 'load-exec', '--io-mbps', '400', '--json').stdout,
    );
    const io2 = JSON.parse(shardlab('run', '--soc', 'rpi4-sd', '--model', store, '--paradigm', 'load-exec', '--json').stdout);
    assert.ok(io.ioBusyMs < io2.ioBusyMs / 5);
    const config = join(tempDir(), 'c.json');
    writeFileSync(config, JSON.stringify({ layers: 2, slices: 4, bits: 4 }));
    const e = JSON.parse(
      shardlab(
        'run',
        '--soc',
        'odroid-n2plus',
        '--model',
        store,
        '--config',
        config,
        '--buffer-kb',
        '64',
        '--eval',
        '--limit',
        '16',
        '--json',
      ).stdout,
    );
    assert.ok(e.accuracy >= 0 && e.accuracy <= 1);
    assert.ok(e.persistentBytes > 0 && e.persistentBytes <= 64 * 1024);
  });

  test('logits --reference and eval also accept a shard store', () => {
    const r = shardlab('logits', '--model', store, '--reference', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).maxAbsDiff <= 1e-4);
  });

  test('bad input is refused with one line and exit code 2', () => {
    assertRefused(['run', '--soc', 'odroid-n2plus', '--model', store], /exactly one of --config FILE or --paradigm/);
    assertRefused(
      ['run', '--soc', 'odroid-n2plus', '--model', store, '--paradigm', 'stream'],
      /--paradigm must be one of load-exec, layerwise, hold/,
    );
    assertRefused(
      ['run', '--soc', 'odroid-n2plus', '--model', store, '--paradigm', 'layerwise', '--bits', '3'],
      /--bits 3: the shard store holds 4, 32/,
    );
    assertRefused(
      ['run', '--soc', 'odroid-n2plus', '--model', store, '--paradigm', 'layerwise', '--unit', 'gpu'],
      /odroid-n2plus has no GPU/,
    );
    assertRefused(
      ['run', '--soc', 'odroid-n2plus', '--model', store, '--paradigm', 'layerwise', '--mode', 'fast'],
      /--mode must be virtual or real/,
    );
  });
});
