import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAccuracy, wilson95 } from '../engine/eval/interval.js';

test('Wilson 95 % interval: known values, bounds inside [0, 1], narrower with more examples', () => {
  // 70 of 100: Wilson gives [0.604, 0.781] (three decimals, as tabulated for this formula).
  const i = wilson95(0.7, 100);
  assert.equal(i.low.toFixed(3), '0.604');
  assert.equal(i.high.toFixed(3), '0.781');
  const perfect = wilson95(1, 50);
  assert.equal(perfect.high, 1);
  assert.ok(perfect.low > 0.9 && perfect.low < 0.95);
  assert.equal(wilson95(0, 10).low, 0);
  const small = wilson95(0.7, 200);
  const large = wilson95(0.7, 1591);
  assert.ok(large.high - large.low < small.high - small.low);
  assert.deepEqual(wilson95(0.5, 0), { low: 0, high: 1 });
  assert.match(formatAccuracy(0.705, 200), /^70\.5 % ± 6\.\d$/);
});
