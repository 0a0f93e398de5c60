import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyExamples, sampleKey, stratifiedSample, stratumSizes } from '../engine/eval/sample.js';
import { loadTask } from '../engine/families/bert/datasets.js';
import { formatDuration, timeLeft } from '../engine/core/progress.js';

const counts = (xs: { label: number }[], labels: number) => {
  const c = Array<number>(labels).fill(0);
  for (const x of xs) c[x.label]++;
  return c;
};

for (const task of ['sotu-era', 'spam'] as const)
  test(`${task}: the quick-mode sample is deterministic, stratified within one example per label, and not the first N`, () => {
    const dev = loadTask(task, 'dev');
    const all = dev.examples;
    const whole = counts(all, dev.labels.length);
    for (const n of [8, 32, 200]) {
      const a = stratifiedSample(all, n);
      assert.equal(a.length, n);
      // Deterministic: the same ids whatever the order the split arrives in.
      assert.deepEqual(
        stratifiedSample([...all].reverse(), n)
          .map((e) => e.id)
          .sort(),
        a.map((e) => e.id).sort(),
      );
      // In the split's order, each example once.
      const pos = a.map((e) => all.indexOf(e));
      assert.deepEqual(
        pos,
        [...pos].sort((x, y) => x - y),
      );
      assert.equal(new Set(pos).size, n);
      const got = counts(a, dev.labels.length);
      got.forEach((c, label) => {
        const exact = (n * whole[label]) / all.length;
        assert.ok(Math.abs(c - exact) < 1, `label ${label}: ${c} for an exact share of ${exact.toFixed(2)} (n=${n})`);
      });
      const firstN = new Set(all.slice(0, n).map((e) => e.id));
      assert.ok(a.filter((e) => !firstN.has(e.id)).length > n / 4, `the sample of ${n} is not mostly the first ${n}`);
    }
    // Nested: a smaller sample lies in a larger one, up to the rounding of the strata.
    const big = new Set(stratifiedSample(all, 200).map((e) => e.id));
    assert.ok(stratifiedSample(all, 100).filter((e) => !big.has(e.id)).length <= dev.labels.length);
    assert.equal(stratifiedSample(all, all.length + 5).length, all.length);
  });

test('stratum sizes: largest remainders, never more than a label has', () => {
  assert.deepEqual(stratumSizes([50, 30, 20], 10), [5, 3, 2]);
  assert.deepEqual(stratumSizes([1, 1, 1], 2), [1, 1, 0]);
  assert.deepEqual(stratumSizes([7, 3], 5), [4, 1]);
  assert.deepEqual(stratumSizes([0, 10], 4), [0, 4]);
});

test('split keys: a sample says so, and only the split and its samples count as its examples', () => {
  assert.equal(sampleKey('dev', 200, 1591), 'dev~strat200');
  assert.equal(sampleKey('dev', 1591, 1591), 'dev');
  assert.equal(keyExamples('dev', 'dev', 1591), 1591);
  assert.equal(keyExamples('dev~strat200', 'dev', 1591), 200);
  assert.equal(keyExamples('dev[:200]', 'dev', 1591), undefined, 'the older first-N keys are not a sample');
  assert.equal(keyExamples('test~strat200', 'dev', 1591), undefined);
});

test('time left comes from the rate so far, and reads as people read it', () => {
  let now = 1000;
  const left = timeLeft(() => now);
  assert.equal(left(0, 100), undefined, 'nothing to go on at the start');
  now += 2000;
  assert.equal(left(10, 100), 18_000);
  now += 2000;
  assert.equal(left(20, 100), 16_000);
  assert.equal(left(100, 100), 0);
  assert.equal(formatDuration(45_400), '45 s');
  assert.equal(formatDuration(200_000), '3 min 20 s');
  assert.equal(formatDuration(3_900_000), '1 h 5 min');
});
