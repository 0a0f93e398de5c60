import { formatAccuracy, wilson95 } from '../../../eval/interval.js';
import { AccuracyOracle } from '../oracle.js';
import { IMPORTANCE_METHODS, profileImportance, type ImportanceMethod } from '../importance.js';
import { BertModel } from '../model.js';
import { ignoredNote } from '../weights.js';
import { UserError } from '../../../core/errors.js';
import { readConfiguration, uniformConfiguration } from '../configuration.js';
import { openSharded } from '../open.js';
import { qualityReport } from '../quality.js';
import { parseBits, writeStore } from '../shard-store.js';
import { ExperimentStore } from '../../../store/db.js';
import { taskOf } from '../datasets.js';
import { taskOrData } from './data.js';
import { progressBar } from '../../../core/progress.js';

const mb = (b: number) => (b / 2 ** 20).toFixed(2);
const pct = (x: number) => (100 * x).toFixed(2);

export interface ShardFlags {
  model: string;
  out: string;
  bits: string;
  task?: string;
  limit?: number;
  eval: boolean;
  db?: string;
  json?: boolean;
}

/** shardlab shard: write a shard store and print its quality report. */
export async function runShard(f: ShardFlags): Promise<void> {
  const bits = parseBits(f.bits);
  const bar = progressBar('shard', !f.json);
  const store = writeStore(f.model, f.out, bits, (d, t) => bar.update(d, t));
  bar.stop();
  const report = qualityReport(store);
  if (f.eval) {
    const model = await BertModel.create(store.dir, store.config, store.base());
    const db = ExperimentStore.open(f.db);
    const oracle = new AccuracyOracle(model, store, db, taskOf(store.config, f.task, f.model), 'dev', f.limit);
    for (const q of report.perBits) {
      const ebar = progressBar(`accuracy ${q.bits}-bit`, !f.json);
      const a = await oracle.accuracy(uniformConfiguration(store.config.layers, store.config.slices, q.bits), (d, t) => ebar.update(d, t));
      Object.assign(q, { accuracy: a.accuracy, accuracyInterval: a.interval, examples: a.examples });
      ebar.stop();
    }
    db.close();
    await model.release();
  }
  const ignored = store.ignored.length ? { ignored: store.ignored } : {};
  if (f.json) return console.log(JSON.stringify({ store: f.out, files: Object.keys(store.manifest.files).length, ...ignored, ...report }));
  console.log(`shard store ${f.out}: ${store.config.layers} layers x ${store.config.slices} slices x ${bits.length} fidelities`);
  if (store.ignored.length) console.log(`note: ${ignoredNote(store.ignored)}`);
  console.log('bits  rel.error  outliers   MB      dev accuracy');
  for (const q of report.perBits)
    console.log(
      `${String(q.bits).padStart(4)}  ${q.relativeError.toFixed(4).padStart(9)}  ${pct(q.outlierFraction).padStart(6)} %  ${mb(q.bytes).padStart(6)}  ${q.accuracy === undefined ? 'n/a' : formatAccuracy(q.accuracy, q.examples ?? 0, 2)}`,
    );
  console.log(`fidelity versions add ${mb(report.extraBytes)} MB over the fp32 shards (${mb(report.fp32Bytes)} MB)`);
  console.log(
    `stored once: base (embeddings, pooler, classifier) ${mb(report.baseBytes)} MB, layer-shared parts ${mb(report.sharedBytes)} MB`,
  );
}

export interface AccuracyFlags {
  model: string;
  config: string;
  task?: string;
  data?: string;
  limit?: number;
  db?: string;
  json?: boolean;
}

/** shardlab accuracy: the dev accuracy of one configuration, cached. */
export async function runAccuracy(f: AccuracyFlags): Promise<void> {
  const { model, store } = await openSharded(f.model);
  const config = readConfiguration(f.config, { layers: store.config.layers, slices: store.config.slices, bits: store.bits });
  const db = ExperimentStore.open(f.db);
  const oracle = new AccuracyOracle(model, store, db, taskOrData(store.config, f, f.model, db), 'dev', f.limit);
  const task = oracle.task;
  const bar = progressBar('accuracy', !f.json);
  const a = await oracle.accuracy(config, (d, t) => bar.update(d, t));
  bar.stop();
  db.close();
  await model.release();
  const { interval, ...answer } = a;
  const out = {
    model: f.model,
    task,
    split: oracle.splitKey,
    layers: config.layers,
    slices: config.slices,
    ...answer,
    accuracyInterval: interval,
  };
  if (f.json) return console.log(JSON.stringify(out));
  console.log(
    `accuracy    ${formatAccuracy(a.accuracy, a.examples, 2)} (95 % interval; ${a.correct}/${a.examples}, ${task} ${oracle.splitKey})`,
  );
  console.log(`config      ${config.layers} layers x ${config.slices} slices, hash ${a.configHash}`);
  console.log(a.cached ? `from cache  yes (${a.ms.toFixed(1)} ms)` : `evaluated   ${(a.ms / 1000).toFixed(1)} s, now cached`);
}

export interface ProfileFlags {
  model: string;
  method: string;
  high: string;
  low: string;
  task?: string;
  data?: string;
  limit?: number;
  db?: string;
  json?: boolean;
}

/** shardlab profile: the importance of every (layer, slice) shard, resumable. */
export async function runProfile(f: ProfileFlags): Promise<void> {
  if (!(IMPORTANCE_METHODS as readonly string[]).includes(f.method))
    throw new UserError(`--method must be one of ${IMPORTANCE_METHODS.join(', ')}, got "${f.method}"`);
  const { model, store } = await openSharded(f.model);
  const [high, low] = [Number(f.high), Number(f.low)];
  for (const [flag, b] of [
    ['--high', high],
    ['--low', low],
  ] as const)
    if (!store.bits.includes(b)) throw new UserError(`${flag} ${b}: the shard store holds ${store.bits.join(', ')} bits`);
  const db = ExperimentStore.open(f.db);
  const oracle = new AccuracyOracle(model, store, db, taskOrData(store.config, f, f.model, db), 'dev', f.limit);
  const task = oracle.task;
  const bar = progressBar(`profile ${f.method}`, !f.json);
  const p = await profileImportance(oracle, db, {
    method: f.method as ImportanceMethod,
    layers: store.config.layers,
    slices: store.config.slices,
    high,
    low,
    modelChecksum: store.checksum,
    onProgress: (d, t) => bar.update(d, t),
  });
  bar.stop();
  db.close();
  await model.release();
  const grid = Array.from({ length: store.config.layers }, (_, l) => p.scores.filter((r) => r.layer === l).map((r) => r.score));
  if (f.json)
    return console.log(
      JSON.stringify({
        model: f.model,
        task,
        split: oracle.splitKey,
        method: f.method,
        high,
        low,
        reference: p.reference,
        referenceInterval: wilson95(p.reference, p.examples),
        examples: p.examples,
        evaluated: p.evaluated,
        scores: grid,
      }),
    );
  console.log(
    `importance (${f.method}, ${high}/${low} bits) on ${task} ${oracle.splitKey}; reference accuracy ${formatAccuracy(p.reference, p.examples, 2)} (95 % interval)`,
  );
  console.log(`layer  ${Array.from({ length: store.config.slices }, (_, s) => `s${s}`.padStart(7)).join('')}`);
  grid.forEach((row, l) =>
    console.log(`${String(l).padStart(5)}  ${row.map((v) => (f.method === 'sti' ? pct(v) : (100 * v).toFixed(2)).padStart(7)).join('')}`),
  );
  console.log(`${p.evaluated} shards evaluated now, ${grid.flat().length - p.evaluated} from an earlier run`);
}
