/**
 * Real time from the first run: for each SoC, spawns fresh processes of `shardlab run --mode real --json`
 * (a user running real time once), with the warm-up and with --no-warm-up, and prints each run's
 * real/modeled makespan ratio, the median and whether it is within the tolerance. The modeled makespan is
 * the run's own predictedMakespanMs, checked once against a --mode virtual run. Run it on an idle machine:
 * other load shows up as overruns and ratios above 1.
 *
 *   npm run bench:realtime-cold -- [--socs a,b] [--model bert-spam] [--paradigm layerwise] [--bits 32]
 *                                  [--planner sti --target-ms T] [--runs 5] [--tolerance 0.02]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    socs: { type: 'string', default: 'odroid-n2plus,rpi4-sd,jetson-nano-cpu' },
    model: { type: 'string', default: 'bert-spam' },
    paradigm: { type: 'string', default: 'layerwise' },
    bits: { type: 'string', default: '32' },
    planner: { type: 'string' },
    'target-ms': { type: 'string' },
    runs: { type: 'string', default: '5' },
    tolerance: { type: 'string', default: '0.02' },
  },
});
const runs = Number(values.runs);
const tolerance = Number(values.tolerance);
if (!(Number.isInteger(runs) && runs >= 1) || !(tolerance > 0)) {
  console.error('bench:realtime-cold: --runs takes a positive integer and --tolerance a positive fraction (0.02 = ±2 %)');
  process.exit(2);
}

const CLI = resolve(fileURLToPath(import.meta.url), '../../../bin/shardlab.js');
// Its own data directory, so the runs read no one else's cache and the first sharding is not timed.
const env = { ...process.env, SHARDLAB_HOME: process.env.SHARDLAB_HOME ?? mkdtempSync(join(tmpdir(), 'shardlab-realtime-cold-')) };

interface RunOut {
  makespanMs: number;
  predictedMakespanMs?: number;
  overruns: number;
  warmUp?: { done: boolean; ms: number };
}

function shardlab(soc: string, mode: string, ...extra: string[]): RunOut {
  const plan = values.planner
    ? ['--planner', values.planner, '--target-ms', values['target-ms'] ?? '']
    : ['--paradigm', values.paradigm!, '--bits', values.bits!];
  const args = [CLI, 'run', '--soc', soc, '--model', values.model!, ...plan, '--mode', mode, '--json', ...extra];
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`shardlab ${args.slice(1).join(' ')}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(r.stdout) as RunOut;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** `runs` fresh processes, alternating warm and cold so slow drift of the host's load hits both alike. */
function measure(soc: string): { warm: RunOut[]; cold: RunOut[] } {
  const warm: RunOut[] = [];
  const cold: RunOut[] = [];
  for (let i = 0; i < runs; i++) {
    warm.push(shardlab(soc, 'real'));
    cold.push(shardlab(soc, 'real', '--no-warm-up'));
  }
  return { warm, cold };
}

function row(label: string, rs: RunOut[], modeled: number): { line: string; ok: boolean } {
  const ratios = rs.map((r) => r.makespanMs / modeled);
  const m = median(ratios);
  const ok = Math.abs(m - 1) <= tolerance;
  const warmMs = rs.map((r) => r.warmUp?.ms ?? 0);
  const line = `  ${label.padEnd(13)} ${ratios.map((x) => x.toFixed(3)).join(' ')}   median ${m.toFixed(3)} ${ok ? 'within' : 'OUTSIDE'} ±${(tolerance * 100).toFixed(0)} %   overruns ${rs.map((r) => r.overruns).join(' ')}${label === 'warm-up' ? `   warm-up ${median(warmMs).toFixed(0)} ms` : ''}`;
  return { line, ok };
}

const plan = values.planner ? `${values.planner} at ${values['target-ms']} ms` : `${values.paradigm} ${values.bits}-bit`;
const load = () => `load average ${loadavg()[0].toFixed(2)} on ${availableParallelism()} cores`;
console.log(`real/modeled makespan of ${values.model}, ${plan}: ${runs} fresh processes each (shardlab run --mode real --json); ${load()}`);
shardlab(values.socs!.split(',')[0], 'virtual'); // shards the model into SHARDLAB_HOME once, outside the timing
let allOk = true;
for (const soc of values.socs!.split(',')) {
  const virtual = shardlab(soc, 'virtual').makespanMs;
  const { warm, cold } = measure(soc);
  const modeled = warm[0].predictedMakespanMs!;
  if (Math.abs(modeled - virtual) > 1e-6) throw new Error(`${soc}: predictedMakespanMs ${modeled} ≠ the virtual run's ${virtual}`);
  console.log(`${soc}: modeled ${modeled.toFixed(1)} ms`);
  const w = row('warm-up', warm, modeled);
  console.log(w.line);
  console.log(row('--no-warm-up', cold, modeled).line);
  allOk &&= w.ok;
}
console.log(
  allOk ? 'all SoCs within tolerance with the warm-up' : 'some SoC is outside the tolerance with the warm-up (is the machine idle?)',
);
