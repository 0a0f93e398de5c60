/** The committed RWKV fixture, fixtures/models/rwkv5-en: it matches PyTorch and writes English. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { shardlabJson } from './helpers.js';
import { shardlabHereJson } from './cli-in-process.js';

const FIXTURE = 'fixtures/models/rwkv5-en';

describe('the rwkv5-en fixture', () => {
  test("the engine's logits match PyTorch's within 1e-4 on every reference prompt", () => {
    // A spawned process; the other commands run in this one (cli-in-process.ts).
    const r = shardlabJson('logits', '--model', FIXTURE, '--reference', '--json');
    assert.equal(r.version, '5.2');
    assert.ok((r.prompts as unknown[]).length >= 4);
    assert.ok((r.maxAbsDiff as number) <= 1e-4, `max |diff| ${r.maxAbsDiff as number}`);
  });

  // The continually trained low-rank models: the step graph's x058 / x059 against PyTorch's own forward.
  for (const kind of ['linear', 'relu2'])
    test(`rwkv5-en-lowrank8-${kind}: the engine's low-rank logits match PyTorch's within 1e-4`, async () => {
      const r = await shardlabHereJson('logits', '--model', `${FIXTURE}-lowrank8-${kind}`, '--reference', '--json');
      assert.ok((r.prompts as unknown[]).length >= 4);
      assert.ok((r.maxAbsDiff as number) <= 1e-4, `max |diff| ${r.maxAbsDiff as number}`);
    });

  test('a seeded sample from a State of the Union prompt is made of common English words', async () => {
    const prompt = 'In this message I report to the Congress on the state of the Union. The people of the United States';
    const r = await shardlabHereJson(
      'generate',
      '--model',
      'rwkv5-en',
      '--prompt',
      prompt,
      '--tokens',
      '60',
      '--temperature',
      '0.8',
      '--top-p',
      '0.9',
      '--seed',
      '1',
      '--json',
    );
    const words = (r.text as string).toLowerCase().match(/[a-z]+/g) ?? [];
    const common = new Set([
      'the',
      'of',
      'and',
      'to',
      'in',
      'a',
      'that',
      'is',
      'for',
      'our',
      'be',
      'we',
      'have',
      'by',
      'which',
      'this',
      'with',
      'as',
      'it',
      'will',
      'has',
      'on',
      'their',
      'all',
      'are',
      'been',
      'its',
      'government',
      'people',
      'states',
      'united',
      'congress',
      'not',
      'an',
      'at',
      'from',
    ]);
    assert.ok(words.length >= 20, r.text as string);
    assert.ok(words.filter((w) => common.has(w)).length >= words.length / 4, r.text as string);
  });
});
