import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as cliDefaults from '../engine/cli/defaults.js';
import { plannerNames } from '../engine/families/bert/plan/planners.js';
import { DEFAULT_BITS } from '../engine/families/bert/shard-store.js';
import { DEFAULT_TOLERANCE } from '../engine/sweep/regress.js';
import { ROOT, shardlab, shardlabJson, TEST_HOME } from './helpers.js';

interface FamilyOut {
  id: string;
  title: string;
  system: string;
  metric: { name: string; higherIsBetter: boolean; format: string };
  unit: string;
  planners: { name: string; description: string }[];
}

describe('shardlab families', () => {
  test('--json lists the registered families with their metric and planners', () => {
    const families = shardlabJson<FamilyOut[]>('families', '--json');
    const bert = families.find((f) => f.id === 'bert');
    assert.ok(bert, 'bert is registered');
    assert.deepEqual(Object.keys(bert).sort(), ['id', 'metric', 'planners', 'system', 'title', 'unit']);
    assert.deepEqual(bert.metric, { name: 'accuracy', higherIsBetter: true, format: 'percent' });
    assert.equal(bert.planners[0].name, 'sti', 'the default planner comes first');
    assert.ok(bert.planners.some((p) => p.name === 'sti-plus'));
    assert.ok(bert.planners.every((p) => typeof p.description === 'string' && p.description.length > 0));
  });

  test('prints a readable summary', () => {
    const r = shardlab('families');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^bert: /);
    assert.match(r.stdout, /metric\s+accuracy \(higher is better\)/);
    assert.match(r.stdout, /sti \(default\)/);
  });
});

describe('help', () => {
  const help = (...cmd: string[]) => {
    const r = shardlab(...cmd, '--help');
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.replace(/\s+/g, ' ');
  };

  test("plan's --planner lists every planner of the family, sti-plus included", () => {
    const planners = shardlabJson<FamilyOut[]>('families', '--json').find((f) => f.id === 'bert')!.planners;
    assert.ok(help('plan').includes(`--planner <name> BERT: ${planners.map((p) => p.name).join(' | ')} (default sti)`));
  });

  test("sweep's --planners all names what the engine runs for all", () => {
    assert.ok(help('sweep').includes(`or all (${plannerNames(DEFAULT_BITS).join(', ')})`));
  });

  test("the CLI's copies of engine defaults match the engine's", () => {
    assert.deepEqual(cliDefaults.DEFAULT_BITS, DEFAULT_BITS);
    assert.deepEqual(cliDefaults.DEFAULT_TOLERANCE, DEFAULT_TOLERANCE);
  });

  test('--help, socs and families load neither onnxruntime, SQLite, HiGHS nor the tokenizer (zod only where profiles are read)', () => {
    // A module hook in the child prints every module it loads.
    const hooks = `export async function load(url, context, next) {
      const r = await next(url, context);
      process.stderr.write('LOADED ' + url + '\\n');
      return r;
    }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
    const loaded = (...args: string[]) => {
      const r = spawnSync(
        process.execPath,
        ['--import', `data:text/javascript,${encodeURIComponent(register)}`, join(ROOT, 'bin/shardlab.js'), ...args],
        { encoding: 'utf8', env: { ...process.env, SHARDLAB_HOME: TEST_HOME } },
      );
      assert.equal(r.status, 0, r.stderr);
      const urls = r.stderr.split('\n').filter((l) => l.startsWith('LOADED '));
      assert.ok(
        urls.some((u) => u.includes('/commander/')),
        'the hook sees the modules',
      );
      return urls;
    };
    const heavy = ['onnxruntime-node', 'better-sqlite3', 'highs', '@huggingface/tokenizers', 'cli-progress'];
    for (const args of [['--help'], ['plan', '--help'], ['socs', '--json'], ['families', '--json']]) {
      const urls = loaded(...args);
      for (const pkg of heavy) assert.ok(!urls.some((u) => u.includes(`/node_modules/${pkg}/`)), `shardlab ${args.join(' ')} loads ${pkg}`);
      if (args[0] !== 'socs') assert.ok(!urls.some((u) => u.includes('/node_modules/zod/')), `shardlab ${args.join(' ')} loads zod`);
    }
  });
});
