/**
 * RWKV-edge on the simulated SoCs, the README's tables:
 *   1. the fixture (rwkv5-en) generating the paper's 200 tokens from its prompt on rpi4-sd, rpi5-nvme and
 *      pixel7, each row one `shardlab run --json` in virtual time, as a user runs it;
 *   2. with --realtime: one setting run in virtual and then real time, side by side, tokens/s and ratio;
 *   3. with --scale: the paper's 0.1B and 0.4B shapes on rpi5-nvme, predicted (predictEdge: no weights
 *      exist for them) with the fixture's measured statistics, beside the paper's own figures.
 *
 *   npm run bench:rwkv-edge-socs -- [--realtime SOC:FLAGS] [--scale] [--db PATH] [--tokens N]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { baselineSetting, type Baseline } from '../engine/families/rwkv/edge/baselines.js';
import { edgeStatsFor } from '../engine/families/rwkv/edge/planning.js';
import { predictEdge } from '../engine/families/rwkv/edge/predict.js';
import { presetDims } from '../engine/families/rwkv/presets.js';
import { CostModel, resolveSettings } from '../engine/soc/cost.js';
import { getSocProfile } from '../engine/soc/load.js';
import { ExperimentStore } from '../engine/store/db.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = join(ROOT, 'fixtures/models/rwkv5-en');
const { values } = parseArgs({
  options: {
    realtime: { type: 'string' },
    scale: { type: 'boolean' },
    'scale-only': { type: 'boolean' },
    db: { type: 'string' },
    tokens: { type: 'string', default: '200' },
  },
});

const SOCS = ['rpi4-sd', 'rpi5-nvme', 'pixel7'];
const ROWS: [string, string[]][] = [
  ['dense fp16, held', ['--techniques', 'none']],
  ['dense INT8, held', ['--techniques', 'int8']],
  ['dense fp16, streamed per token', ['--stream']],
  ['all (x059, deployed)', ['--techniques', 'all']],
  ['all with x058', ['--techniques', 'all', '--lowrank-kind', 'linear']],
  ['all + INT8 (x059)', ['--techniques', 'all,int8']],
];

/** Each technique alone, on one SoC (the paper's deployed parameters). */
const ALONE: [string, string[]][] = [
  ['low rank alone (x059)', ['--techniques', 'lowrank']],
  ['sparse FFN alone', ['--techniques', 'sparse-ffn']],
  ['embedding cache alone', ['--techniques', 'emb-cache']],
  ['hierarchical head alone', ['--techniques', 'cluster-head']],
];

interface RunOut {
  tokensPerSecond: number;
  tokenLatencyMsP50: number;
  tokenLatencyMsP99: number;
  firstTokenMs: number;
  persistentBytes: number;
  peakBytes: number;
  ioBytesPerToken: number;
  stallMs: number;
  makespanMs: number;
  overruns: number;
}

function run(soc: string, flags: string[], mode = 'virtual'): RunOut {
  const args = [
    join(ROOT, 'bin/shardlab.js'),
    'run',
    '--soc',
    soc,
    '--model',
    FIXTURE,
    ...flags,
    '--tokens',
    values.tokens!,
    '--mode',
    mode,
    '--json',
  ];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as RunOut;
}

const mib = (b: number) => (b / 2 ** 20).toFixed(2);

if (!values['scale-only']) socTable();

function socTable(): void {
  console.log(`| SoC | setting | tokens/s | per token p50 / p99, ms | first token, ms | held MiB | peak MiB | read per token, KiB |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const soc of SOCS)
    for (const [name, flags] of soc === 'rpi5-nvme' ? [...ROWS, ...ALONE] : ROWS) {
      const r = run(soc, flags);
      console.log(
        `| ${soc} | ${name} | ${r.tokensPerSecond.toFixed(1)} | ${r.tokenLatencyMsP50.toFixed(2)} / ${r.tokenLatencyMsP99.toFixed(2)} | ${r.firstTokenMs.toFixed(1)} | ${mib(r.persistentBytes)} | ${mib(r.peakBytes)} | ${(r.ioBytesPerToken / 1024).toFixed(1)} |`,
      );
    }
}

if (values.realtime) {
  const [soc, ...rest] = values.realtime.split(':');
  const flags = rest.join(':').split(' ').filter(Boolean);
  const v = run(soc!, flags);
  const r = run(soc!, flags, 'real');
  console.log(`\nreal time vs virtual, ${soc} ${flags.join(' ')}, ${values.tokens} tokens (one fresh process each):`);
  console.log(`| mode | tokens/s | total, ms | first token, ms | overruns |`);
  console.log('|---|---|---|---|---|');
  for (const [m, x] of [
    ['virtual', v],
    ['real', r],
  ] as const)
    console.log(`| ${m} | ${x.tokensPerSecond.toFixed(2)} | ${x.makespanMs.toFixed(0)} | ${x.firstTokenMs.toFixed(0)} | ${x.overruns} |`);
  console.log(
    `real / virtual: tokens/s ${(r.tokensPerSecond / v.tokensPerSecond).toFixed(3)}, total time ${(r.makespanMs / v.makespanMs).toFixed(3)}`,
  );
}

if (values.scale || values['scale-only']) {
  const db = ExperimentStore.open(values.db);
  const profile = getSocProfile('rpi5-nvme');
  const cost = new CostModel(profile, resolveSettings(profile));
  const PAPER: Record<string, string> = {
    'rwkv5-world-0.1b': "fp16 368 MB → 77 MB resident (4.8×; §4, MB = MiB); about 10 tokens/s for 0.1B INT8 on a Pi (authors' dev notes)",
    'rwkv5-world-0.4b': "fp16 881 MB → 236 MB resident (3.7×; §4); 4–5 tokens/s for 0.4B fp16i8, per-token forward (authors' dev notes)",
  };
  console.log(`\npaper scale on rpi5-nvme (predicted; statistics measured on the fixture: FFN density, head share, cache hit rate):`);
  console.log(`| model | setting | tokens/s | held MiB | peak MiB | read per token, MiB | the paper |`);
  console.log('|---|---|---|---|---|---|---|');
  for (const preset of ['rwkv5-world-0.1b', 'rwkv5-world-0.4b'] as const) {
    const dims = presetDims(preset);
    for (const name of ['dense-fp16', 'dense-int8', 'all', 'all-int8'] as Baseline[]) {
      const setting = baselineSetting(undefined, name);
      const stats = edgeStatsFor(FIXTURE, db, setting);
      const p = predictEdge(cost, dims, setting, stats);
      console.log(
        `| ${preset} | ${name} | ${p.tokensPerSecond.toFixed(1)} | ${mib(p.persistentBytes)} | ${mib(p.peakBytes)} | ${mib(p.ioBytesPerToken)} | ${name === 'dense-fp16' ? PAPER[preset] : ''} |`,
      );
    }
  }
  db.close();
}
