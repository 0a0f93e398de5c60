import assert from 'node:assert/strict';
import { test } from 'node:test';
import { presetConfig } from '../engine/families/bert/presets.js';
import { UserError } from '../engine/core/errors.js';
import { CostModel, costModelOf, resolveSettings } from '../engine/soc/cost.js';
import { computeLayer, sliceWeightBytes, type LayerShape } from '../engine/families/bert/cost.js';
import { getSocProfile } from '../engine/soc/load.js';
import { shardlab } from './helpers.js';
import { assertRefused } from './refused.js';

const base = presetConfig('bert-base');
const shape: LayerShape = { hidden: base.hidden, heads: base.heads, headDim: base.headDim, ffnPerSlice: base.ffnPerSlice };
const odroid = getSocProfile('odroid-n2plus');

test('calibration: a BERT-base layer computes in about 95 ms and its fp32 weights load in about 339 ms on odroid-n2plus', () => {
  const cost = new CostModel(odroid, resolveSettings(odroid));
  assert.ok(Math.abs(computeLayer(cost, shape, 12, 128).totalMs - 95) < 1.5);
  assert.ok(Math.abs(cost.ioMs(12 * sliceWeightBytes(shape)) - 339.3) < 3.5);
  // STI's prototype table: 3 slices compute in 35 ms.
  assert.ok(Math.abs(computeLayer(cost, shape, 3, 128).totalMs - 35) < 1.5);
});

test('compute scales with slices and with sequence length; attention grows faster than linearly in tokens', () => {
  const cost = new CostModel(odroid, resolveSettings(odroid));
  const c6 = computeLayer(cost, shape, 6, 128);
  const c12 = computeLayer(cost, shape, 12, 128);
  assert.ok(Math.abs((c12.ffnMs - 2 * c6.ffnMs) / c12.ffnMs) < 1e-9);
  const long = computeLayer(cost, shape, 12, 512);
  assert.ok(long.attentionMs / c12.attentionMs > 4);
  assert.ok(Math.abs(long.ffnMs / c12.ffnMs - 4) < 1e-9);
});

test('throttles: fewer cores, a lower clock, the little cluster and an IO override all change the modeled times', () => {
  const full = computeLayer(new CostModel(odroid, resolveSettings(odroid)), shape, 12, 128);
  const two = computeLayer(new CostModel(odroid, resolveSettings(odroid, { cores: 2 })), shape, 12, 128);
  assert.ok(Math.abs(two.attentionMs + two.ffnMs - 2 * (full.attentionMs + full.ffnMs)) < 1e-6);
  const slow = new CostModel(odroid, resolveSettings(odroid, { clockGhz: 1.2 }));
  assert.ok(computeLayer(slow, shape, 12, 128).totalMs > 1.9 * full.totalMs);
  assert.ok(slow.dequantMs(1e6) > 1.9 * new CostModel(odroid, resolveSettings(odroid)).dequantMs(1e6));
  const little = computeLayer(new CostModel(odroid, resolveSettings(odroid, { cluster: 'little', cores: 2 })), shape, 12, 128);
  assert.ok(little.totalMs > two.totalMs);
  const io = new CostModel(odroid, resolveSettings(odroid, { ioMBps: 167.2 }));
  assert.ok(Math.abs(io.ioMs(28.3e6) - odroid.storage.requestLatencyMs.value - 169.26) < 0.1);
});

test('costModelOf gives the same cost model for the same profile values and settings, a new one when either changes', () => {
  const fresh = () => getSocProfile('odroid-n2plus');
  const a = costModelOf(fresh(), resolveSettings(odroid));
  assert.equal(costModelOf(fresh(), resolveSettings(fresh())), a, 'a profile read again is the same cost model');
  assert.notEqual(costModelOf(fresh(), resolveSettings(odroid, { cores: 1 })), a);
  const edited = fresh();
  edited.storage.readMBps.value *= 2;
  const b = costModelOf(edited, resolveSettings(edited));
  assert.notEqual(b, a);
  assert.ok(b.ioMs(1e6) < a.ioMs(1e6), 'the edited profile is the one modeled');
});

test('a GPU profile computes on its GPU, faster than its CPU', () => {
  const gpu = getSocProfile('jetson-nano-gpu');
  const onGpu = computeLayer(new CostModel(gpu, resolveSettings(gpu)), shape, 12, 128);
  const onCpu = computeLayer(new CostModel(gpu, resolveSettings(gpu, { computeUnit: 'cpu' })), shape, 12, 128);
  assert.ok(onGpu.totalMs < onCpu.totalMs);
});

test('impossible throttles are refused', () => {
  assert.throws(() => resolveSettings(odroid, { cores: 5 }), UserError);
  assert.throws(() => resolveSettings(odroid, { computeUnit: 'gpu' }), UserError);
  assert.throws(() => resolveSettings(odroid, { cluster: 'prime' }), UserError);
  assert.throws(() => resolveSettings(odroid, { clockGhz: 3.5 }), UserError);
});

test('shardlab cost prints the per-layer table as JSON and refuses bad throttles', () => {
  const r = shardlab('cost', '--soc', 'odroid-n2plus', '--shape', 'bert-base', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.widths.length, 12);
  assert.ok(Math.abs(out.widths[11].totalMs - 95) < 1.5);
  assert.ok(Math.abs(out.widths[11].fp32IoMs - 339.3) < 3.5);
  assertRefused(
    ['cost', '--soc', 'odroid-n2plus', '--shape', 'bert-base', '--cores', '9'],
    /--cores 9: the big cluster of odroid-n2plus has 4 cores/,
  );
  assertRefused(['cost', '--soc', 'nokia-3310', '--shape', 'bert-base'], /nokia-3310/);
});
