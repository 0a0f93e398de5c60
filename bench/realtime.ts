/**
 * Validates real-time mode against the model: for each fixture model and SoC, runs the same plan under a
 * VirtualClock (prediction) and a RealClock (paced wall time), and prints the makespan ratio and the IO
 * bandwidth the real run achieved against the profile's. Run it on an idle machine: a host slower than
 * the modeled SoC shows up as overruns, which the table counts.
 *
 *   npm run bench:realtime -- [--socs a,b] [--models dir,dir] [--paradigm layerwise] [--bits 32] [--repeats 3]
 */
import { parseArgs } from 'node:util';
import { makeBatch } from '../engine/families/bert/batch.js';
import { loadTask, requireTask } from '../engine/families/bert/datasets.js';
import { RealClock, VirtualClock, type Clock } from '../engine/pipeline/clock.js';
import { executorThreads } from '../engine/pipeline/executor.js';
import { executePlan } from '../engine/families/bert/program.js';
import { paradigmPlan, type Paradigm } from '../engine/families/bert/plan/plan.js';
import { uniformConfiguration } from '../engine/families/bert/configuration.js';
import { openSharded } from '../engine/families/bert/open.js';
import { CostModel, resolveSettings } from '../engine/soc/cost.js';
import { getSocProfile } from '../engine/soc/load.js';

const { values } = parseArgs({
  options: {
    socs: { type: 'string', default: 'odroid-n2plus,rpi4-sd,jetson-nano-cpu' },
    models: { type: 'string', default: 'fixtures/models/bert-spam,fixtures/models/bert-sotu-era' },
    paradigm: { type: 'string', default: 'layerwise' },
    bits: { type: 'string', default: '32' },
    repeats: { type: 'string', default: '3' },
  },
});
console.log('model            soc               virtual ms   real ms   real/virtual   IO MB    IO MB/s real / profile   overruns');
for (const dir of values.models!.split(',')) {
  const { model, store } = await openSharded(dir, { threads: executorThreads(4) });
  const tokens = model.tokenizer.encode(loadTask(requireTask(store.config.task!), 'dev').examples[0].text);
  const plan = paradigmPlan(
    values.paradigm as Paradigm,
    uniformConfiguration(store.config.layers, store.config.slices, Number(values.bits)),
  );
  for (const soc of values.socs!.split(',')) {
    const profile = getSocProfile(soc);
    const cost = new CostModel(profile, resolveSettings(profile));
    const run = (clock: Clock) => executePlan({ plan, store, model, cost, clock, batch: makeBatch([tokens]) });
    const predicted = await run(new VirtualClock());
    await run(new RealClock()); // warm-up: JIT, page cache
    const reals = [];
    for (let i = 0; i < Number(values.repeats); i++) reals.push(await run(new RealClock()));
    const real = reals.sort((a, b) => a.measured.endUs - b.measured.endUs)[Math.floor(reals.length / 2)];
    const ioSeconds = (real.measured.ioEndUs - real.measured.ioStartUs) / 1e6;
    const modeledIoSeconds = predicted.ioBusyUs / 1e6;
    const achieved = real.ioBytes / 1e6 / ioSeconds;
    // The profile's figure for these reads: its bandwidth with its per-request latency included.
    const expected = real.ioBytes / 1e6 / modeledIoSeconds;
    console.log(
      `${dir.split('/').pop()!.padEnd(16)} ${soc.padEnd(17)} ${(predicted.makespanUs / 1000).toFixed(1).padStart(10)} ${(real.measured.endUs / 1000).toFixed(1).padStart(9)} ${(real.measured.endUs / predicted.makespanUs).toFixed(3).padStart(14)} ${(real.ioBytes / 1e6).toFixed(2).padStart(7)} ${achieved.toFixed(1).padStart(11)} / ${expected.toFixed(1).padEnd(10)} (${(achieved / expected).toFixed(3)}) ${String(real.overruns.length).padStart(4)}`,
    );
  }
  await model.release();
}
