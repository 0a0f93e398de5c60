/**
 * The importance profile, side by side: the path before issue 11 (one whole-model evaluation of every
 * configuration: the reference, then one per shard, each through the accuracy oracle) against
 * profileImportance (batches outer, the reference's run of each layer reused, the shard's layer with
 * attention for its one head, the last layer for the CLS row only). Same shard store, same examples, each
 * into a fresh experiment store; prints both times, their ratio and how far the scores differ.
 *
 *   npm run bench:importance -- [--model DIR] [--limit N] [--method sti|drop] [--high 32] [--low 2] [--order old-first|new-first]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openSharded } from '../engine/families/bert/open.js';
import { AccuracyOracle } from '../engine/families/bert/oracle.js';
import { profileImportance, type ImportanceMethod } from '../engine/families/bert/importance.js';
import { uniformConfiguration, type Configuration } from '../engine/families/bert/configuration.js';
import { requireTask } from '../engine/families/bert/datasets.js';
import { ExperimentStore } from '../engine/store/db.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'fixtures/models/bert-sotu-era' },
    limit: { type: 'string' },
    method: { type: 'string', default: 'sti' },
    high: { type: 'string', default: '32' },
    low: { type: 'string', default: '2' },
    order: { type: 'string', default: 'old-first' },
  },
});
const method = values.method as ImportanceMethod;
const [high, low] = [Number(values.high), Number(values.low)];
const limit = values.limit ? Number(values.limit) : undefined;
const { model, store } = await openSharded(values.model!);
const task = requireTask(store.config.task ?? '');
const { layers, slices } = store.config;
const fresh = (name: string) => ExperimentStore.open(join(mkdtempSync(join(tmpdir(), 'shardlab-bench-imp-')), `${name}.db`));
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

/** The old path, as profileImportance was before issue 11: every configuration evaluated whole, through the oracle. */
async function oldPath(oracle: AccuracyOracle): Promise<{ reference: number; accuracy: number[][] }> {
  const [refBits, probeBits] = method === 'sti' ? [low, high] : [high, low];
  const base = uniformConfiguration(layers, slices, refBits);
  const withShard = (l: number, s: number): Configuration => {
    const bits = base.bits.map((row) => row.slice());
    bits[l][s] = probeBits;
    return { ...base, bits };
  };
  const reference = (await oracle.accuracy(base)).accuracy;
  const accuracy = Array.from({ length: layers }, () => Array<number>(slices).fill(0));
  for (let l = 0; l < layers; l++)
    for (let s = 0; s < slices; s++) {
      accuracy[l][s] = (await oracle.accuracy(withShard(l, s))).accuracy;
      log(`old path: shard ${l * slices + s + 1}/${layers * slices}`);
    }
  return { reference, accuracy };
}

async function newPath(oracle: AccuracyOracle, db: ExperimentStore): Promise<{ reference: number; accuracy: number[][] }> {
  let shown = -1;
  const p = await profileImportance(oracle, db, {
    method,
    layers,
    slices,
    high,
    low,
    modelChecksum: store.checksum,
    onProgress: (d, t) => {
      const tenth = Math.floor((10 * d) / t);
      if (tenth !== shown) log(`new path: ${d}/${t} example evaluations`);
      shown = tenth;
    },
  });
  const accuracy = Array.from({ length: layers }, () => Array<number>(slices).fill(0));
  for (const r of p.scores) accuracy[r.layer][r.slice] = r.accuracy;
  return { reference: p.reference, accuracy };
}

const runs: Record<'old' | 'new', { ms: number; cpuMs: number; reference: number; accuracy: number[][] }> = {} as never;
let examples = 0;
let splitName = '';
for (const which of values.order === 'new-first' ? (['new', 'old'] as const) : (['old', 'new'] as const)) {
  const db = fresh(which);
  const oracle = new AccuracyOracle(model, store, db, task, 'dev', limit);
  [examples, splitName] = [oracle.examples.length, oracle.splitKey];
  log(`${which} path: ${layers * slices} shards on ${examples} examples (${task} ${oracle.splitKey})`);
  const [t, cpu] = [performance.now(), process.cpuUsage()];
  const r = which === 'old' ? await oldPath(oracle) : await newPath(oracle, db);
  const used = process.cpuUsage(cpu);
  runs[which] = { ...r, ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000 };
  log(`${which} path: ${(runs[which].ms / 1000).toFixed(1)} s`);
  db.close();
}
await model.release();

const diffs = runs.old.accuracy.flat().map((a, i) => Math.abs(a - runs.new.accuracy.flat()[i]));
const maxDiff = Math.max(Math.abs(runs.old.reference - runs.new.reference), ...diffs);
const differing = diffs.filter((d) => d > 0).length;
console.log(
  `importance ${method}:${high}/${low} of ${values.model} (${layers} x ${slices} shards) on ${task} ${splitName}, ${examples} examples`,
);
// CPU time beside wall time: on a shared machine the wall clock also measures the neighbours.
const line = (name: string, r: { ms: number; cpuMs: number }) =>
  console.log(`${name}  ${(r.ms / 1000).toFixed(1)} s wall, ${(r.cpuMs / 1000).toFixed(1)} s CPU`);
line('old path (whole model per configuration)', runs.old);
line('new path (reference reused, one head)   ', runs.new);
console.log(
  `ratio new/old                             ${(runs.new.ms / runs.old.ms).toFixed(3)} wall, ${(runs.new.cpuMs / runs.old.cpuMs).toFixed(3)} CPU`,
);
console.log(
  `max accuracy difference                   ${maxDiff.toExponential(2)} (${Math.round(maxDiff * examples)} of ${examples} examples); ` +
    `${differing} of ${diffs.length} shards differ; reference ${runs.old.reference} vs ${runs.new.reference}`,
);
