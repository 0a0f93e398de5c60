/**
 * Throughput of the engine (one graph whose layer weights are fed as inputs, so any width, depth and
 * fidelity runs in the same session) against onnxruntime running the same model as one monolithic graph
 * with its weights as initializers (constant-folded and prepacked), and against that graph again with
 * onnxruntime's weight prepacking turned off (a graph fed its weights as inputs cannot prepack them), and
 * run in the parts the engine runs a batch in (see ROWS_PER_THREAD in model.ts). Same inputs, same session
 * options, rounds in rotating order in one run; prints the engine's ratio to each, by wall and CPU time.
 * With --profile, every session records onnxruntime's profile and the bench prints, per pass over the
 * examples, each contender's kernel time by operator type, the executor's time between kernels and the
 * time outside onnxruntime's Run (building the feeds, handing tensors over, reading the logits).
 *
 *   npm run bench -- [--model DIR] [--examples N] [--rounds R] [--batch B] [--threads T] [--profile]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { lengthBuckets, makeBatch, splitRows, type Batch } from '../engine/families/bert/batch.js';
import { monolithicGraph, stackedGraph } from '../engine/families/bert/graphs.js';
import { BertModel, rowsPerRun, sessionOptions } from '../engine/families/bert/model.js';
import { loadTask, requireTask } from '../engine/families/bert/datasets.js';
import { profilingOptions, readKernelTimes, traceFile, type KernelTimes } from './ort-profile.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'fixtures/models/bert-spam' },
    examples: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '5' },
    batch: { type: 'string', default: '32' },
    threads: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
  },
});
const threads = Number(values.threads);
const model = await BertModel.load(values.model!, { threads });
const task = requireTask(model.config.task ?? 'spam');
const seqs = loadTask(task, 'dev')
  .examples.slice(0, Number(values.examples))
  .map((e) => model.tokenizer.encode(e.text));
const batches: Batch[] = lengthBuckets(seqs, Number(values.batch)).map((idx) => makeBatch(idx.map((i) => seqs[i])));
const profileDir = values.profile ? mkdtempSync(join(tmpdir(), 'shardlab-profile-')) : undefined;
const options = (name: string, extra?: ort.InferenceSession.SessionOptions['extra']): ort.InferenceSession.SessionOptions => ({
  ...sessionOptions({ threads }),
  ...(extra && { extra }),
  ...(profileDir && profilingOptions(profileDir, name)),
});
const mono = await ort.InferenceSession.create(monolithicGraph(model.config, model.weights!), options('monolithic'));
// The same monolithic graph with onnxruntime's weight prepacking off: what is left of the gap once the
// one thing a graph fed its weights as inputs cannot do is taken from the monolithic side too.
const noPrepack = await ort.InferenceSession.create(
  monolithicGraph(model.config, model.weights!),
  options('no-prepacking', { session: { intra_op: { allow_spinning: '1' }, disable_prepacking: '1' } }),
);
// The monolithic graph again, run in the engine's parts (a session of its own, so a profile tells them apart).
const monoParts = await ort.InferenceSession.create(monolithicGraph(model.config, model.weights!), options('monolithic-parts'));
// The model's own stacked session cannot be profiled, so a profile runs the engine's graph in a session
// of its own with the same options, fed by the same code as model.logits (stackedFeeds).
const engine = profileDir
  ? await ort.InferenceSession.create(stackedGraph(model.config, model.weights!, model.config.layers), options('engine'))
  : undefined;
const layers = model.submodel(model.config.layers, model.config.slices);
let feedSeconds = 0;

async function runEngine(): Promise<void> {
  for (const b of batches) {
    if (!engine) {
      await model.logits(b);
      continue;
    }
    // As model.logits runs them (logitsWith): in parts of rowsPerRun tokens.
    for (const part of splitRows(b, rowsPerRun(threads))) {
      const t = performance.now();
      const feeds = model.stackedFeeds(part, layers);
      feedSeconds += (performance.now() - t) / 1000;
      void (await engine.run(feeds)).logits.data;
    }
  }
}
/** Runs the batches through a monolithic session, each in parts of at most `maxRows` tokens. */
function runGraph(session: ort.InferenceSession, maxRows = Infinity): () => Promise<void> {
  return async () => {
    for (const b of batches)
      for (const part of splitRows(b, maxRows)) {
        const dims = [part.size, part.length];
        const feeds = { input_ids: new ort.Tensor('int64', part.ids, dims), attention_mask: new ort.Tensor('float32', part.mask, dims) };
        await session.run(feeds);
      }
  };
}
/** Wall and CPU seconds of one pass (CPU time: the process's, all threads, spinning included). */
async function timed(f: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const [t, c] = [performance.now(), process.cpuUsage()];
  await f();
  const used = process.cpuUsage(c);
  return { wall: (performance.now() - t) / 1000, cpu: (used.user + used.system) / 1e6 };
}

const contenders: [string, () => Promise<void>][] = [
  ['engine', runEngine],
  ['monolithic', runGraph(mono)],
  ['monolithic, no prepacking', runGraph(noPrepack)],
  // The engine runs a batch in parts that keep its Gemms' output panels in L2 (see ROWS_PER_THREAD); the
  // monolithic graph run in the same parts shows what of the engine's lead is that rather than the graph.
  ["monolithic, engine's parts", runGraph(monoParts, rowsPerRun(threads))],
];
const rounds = Number(values.rounds);
for (const [, run] of contenders) await run(); // warm-up
feedSeconds = 0;
const times = contenders.map(() => [] as number[]);
const cpu = contenders.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) {
  // Rotate the order so drift on a shared machine hits every side alike.
  for (let k = 0; k < contenders.length; k++) {
    const i = (k + r) % contenders.length;
    const { wall, cpu: used } = await timed(contenders[i][1]);
    times[i].push(wall);
    cpu[i].push(used);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const n = seqs.length;
const rates = times.map((t) => n / median(t));
const cpuRates = cpu.map((t) => n / median(t));
console.log(`model ${values.model}, ${n} dev examples, batch ${values.batch}, ${threads} threads, ${rounds} rounds (median)`);
contenders.forEach(([name], i) =>
  console.log(`${name.padEnd(26)} ${rates[i].toFixed(1)} examples/s, ${cpuRates[i].toFixed(1)} per CPU-second`),
);
// On a loaded machine CPU time is the steadier of the two; with more than one thread it counts spinning too.
const ratio = (label: string, j: number) =>
  console.log(`ratio engine/${label} ${(rates[0] / rates[j]).toFixed(3)} (by CPU time ${(cpuRates[0] / cpuRates[j]).toFixed(3)})`);
ratio('monolithic', 1);
ratio('monolithic without prepacking', 2);
ratio(`monolithic in the engine's parts (${rowsPerRun(threads)} tokens)`, 3);
if (profileDir) {
  const sessions = [engine!, mono, noPrepack, monoParts];
  const names = ['engine', 'monolithic', 'no-prepacking', 'monolithic-parts'];
  const partsPerPass = batches.reduce((runs, b) => runs + splitRows(b, rowsPerRun(threads)).length, 0);
  const warmUpRuns = [partsPerPass, batches.length, batches.length, partsPerPass];
  sessions.forEach((s) => s.endProfiling());
  const kernels = names.map((name, i) => readKernelTimes(traceFile(profileDir, name), warmUpRuns[i]));
  printProfile(
    kernels,
    times.map((t) => t.reduce((a, b) => a + b, 0)),
  );
  rmSync(profileDir, { recursive: true, force: true });
}
for (const s of [mono, noPrepack, monoParts, engine]) await s?.release();
await model.release();

/** The profile as a table: milliseconds per pass over the examples, contenders side by side, and the engine's ratio to each. */
function printProfile(k: KernelTimes[], wallSeconds: number[]): void {
  const ms = (us: number) => (us / 1000 / rounds).toFixed(1).padStart(11);
  const ratios = (us: number[]) => us.slice(1).map((x) => (x > 0 ? (us[0] / x).toFixed(3) : '-').padStart(8));
  const row = (label: string, us: number[]) => console.log(`${label.padEnd(30)}${us.map(ms).join('')}${ratios(us).join('')}`);
  const ops = [...k[0].byOp.keys()].sort((a, b) => k[0].byOp.get(b)! - k[0].byOp.get(a)!);
  console.log(`\nonnxruntime's profile: ms per pass over the ${n} examples (mean of ${rounds} rounds)`);
  const heads = ['engine', 'monolithic', 'no prepack', 'mono parts'];
  console.log(
    `${''.padEnd(30)}${heads.map((c) => c.padStart(11)).join('')}${['e/mono', 'e/nopre', 'e/parts'].map((c) => c.padStart(8)).join('')}`,
  );
  for (const op of ops)
    row(
      op,
      k.map((t) => t.byOp.get(op) ?? 0),
    );
  row(
    'all kernels',
    k.map((t) => t.kernels),
  );
  row(
    'executor between kernels',
    k.map((t) => t.run - t.kernels),
  );
  row(
    "outside onnxruntime's Run",
    k.map((t, i) => wallSeconds[i] * 1e6 - t.run),
  );
  row("  of which engine's feeds", [feedSeconds * 1e6, 0, 0, 0]);
  row(
    'wall',
    wallSeconds.map((s) => s * 1e6),
  );
  console.log(`runs per pass: ${k.map((t) => t.runs / rounds).join(', ')}`);
}
