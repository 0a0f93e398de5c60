import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chromeTrace, inFlightMemory, type TraceEvent } from '../engine/pipeline/trace.js';

const ev = (stage: TraceEvent['stage'], layer: number, slice: number, start: number, end: number, bytes = 0): TraceEvent => ({
  stage,
  layer,
  slice,
  bits: 4,
  bytes,
  start,
  end,
});

test('inFlightMemory: the preload buffer throughout, each streamed shard from its read to its decode', () => {
  const events = [
    ev('io', 0, 0, 0, 10, 100),
    ev('io', 0, 1, 10, 20, 50),
    ev('decompress', 0, 0, 12, 14),
    ev('decompress', 0, 1, 20, 22),
    // A preloaded shard: decoded, never read.
    ev('decompress', 0, 2, 22, 23),
    ev('compute', 0, -1, 23, 40),
  ];
  const m = inFlightMemory(events, 1000);
  assert.deepEqual(
    m.map((s) => [s.t, s.persistent + s.transient]),
    [
      [0, 1000],
      [10, 1100],
      [14, 1000],
      [20, 1050],
      [22, 1000],
      [40, 1000],
    ],
  );
  // The Chrome trace carries them as counters.
  const trace = chromeTrace(events, m, { planner: 'x' });
  assert.equal(trace.traceEvents.filter((e) => e.ph === 'C' && e.name === 'memory').length, m.length);
});
