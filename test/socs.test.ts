import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { UserError } from '../engine/core/errors.js';
import { BUNDLED_SOCS_DIR, getSocProfile, loadSocProfiles, parseSocProfile } from '../engine/soc/load.js';
import { SocProfileSchema } from '../engine/soc/profile.js';
import { ROOT, shardlab, tempDir } from './helpers.js';
import { assertRefused } from './refused.js';

const SOCS = join(ROOT, 'socs');
const REQUIRED = [
  'odroid-n2plus',
  'jetson-nano-cpu',
  'jetson-nano-gpu',
  'jetson-orin-nano-gpu',
  'rpi4-sd',
  'rpi5-nvme',
  'orangepi5',
  'snapdragon-865',
  'snapdragon-8gen2',
  'pixel7',
  'apple-a16',
];

/** Bundled profiles only: the user's data directory plays no part in these tests. */
const bundled = () => loadSocProfiles(SOCS, null);
const odroid = () => JSON.parse(readFileSync(join(SOCS, 'odroid-n2plus.json'), 'utf8'));

/** The one-line UserError message that parsing `raw` gives. */
function refusal(raw: unknown, file = 'socs/odroid-n2plus.json'): string {
  try {
    parseSocProfile(raw, file);
  } catch (e) {
    assert.ok(e instanceof UserError, String(e));
    assert.doesNotMatch(e.message, /\n/);
    return e.message;
  }
  assert.fail('the profile was accepted');
}

describe('bundled SoC profiles', () => {
  test('the loader finds socs/ from the compiled file', () => assert.equal(resolve(BUNDLED_SOCS_DIR), SOCS));

  test('every file validates against the schema and is named by its id', () => {
    const files = readdirSync(SOCS).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= REQUIRED.length);
    for (const f of files) {
      const p = SocProfileSchema.parse(JSON.parse(readFileSync(join(SOCS, f), 'utf8')));
      assert.equal(`${p.id}.json`, f);
    }
  });

  test('the required profiles exist, sorted by id', () => {
    const ids = bundled().map((p) => p.id);
    for (const id of REQUIRED) assert.ok(ids.includes(id), id);
    assert.deepEqual(ids, [...ids].sort());
  });

  test('the two Jetson Nano profiles are the same board computing on CPU and GPU', () => {
    const [cpu, gpu] = [getSocProfile('jetson-nano-cpu', bundled()), getSocProfile('jetson-nano-gpu', bundled())];
    assert.equal(cpu.defaults.computeUnit, 'cpu');
    assert.equal(gpu.defaults.computeUnit, 'gpu');
    assert.deepEqual(cpu.cpu, gpu.cpu);
    assert.deepEqual(cpu.storage, gpu.storage);
    assert.ok(gpu.gpu);
  });

  test('every profile cites STI, where the CPU efficiency comes from', () => {
    for (const p of bundled()) {
      assert.ok(
        p.sources.some((s) => s.id === p.computeEfficiency.source && /sti\.md/.test(s.citation)),
        p.id,
      );
    }
  });
});

describe('odroid-n2plus is calibrated to STI', () => {
  const p = SocProfileSchema.parse(odroid());
  const big = p.cpu.clusters.find((c) => c.id === p.defaults.cluster)!;
  const layerMs = (flops: number) =>
    p.layerOverheadMs.value + (1000 * flops) / (p.defaults.cores * big.peakGflopsPerCore.value * 1e9 * p.computeEfficiency.value);
  const ioMs = (bytes: number) => p.storage.requestLatencyMs.value + (1000 * bytes) / (p.storage.readMBps.value * 1e6);

  test('defaults to the 4 big A73 cores at 19.2 GFLOP/s each', () => {
    assert.deepEqual(p.defaults, { computeUnit: 'cpu', cluster: 'big', cores: 4 });
    assert.equal(big.peakGflopsPerCore.value, 19.2);
  });

  test('a BERT-base layer (1.8623 GFLOP at 128 tokens) computes in 95 ± 1 ms, a 3-slice layer in 35 ± 1 ms', () => {
    const full = layerMs(1.8623e9);
    assert.ok(Math.abs(full - 95) <= 1, `${full} ms`);
    const threeSlices = layerMs((1.8623e9 * 3) / 12);
    assert.ok(Math.abs(threeSlices - 35) <= 1, `${threeSlices} ms`);
  });

  test('a 28.35 MB fp32 layer loads in 339 ± 3 ms', () => {
    const ms = ioMs(28.35e6);
    assert.ok(Math.abs(ms - 339) <= 3, `${ms} ms`);
  });

  test('a 6-bit shard (442.7 KB) dequantizes in 2 ms on the 4 big cores', () => {
    const ms = (1000 * 442.7e3) / (p.defaults.cores * p.dequantMBpsPerCore.value * 1e6);
    assert.ok(Math.abs(ms - 2) <= 0.05, `${ms} ms`);
  });
});

describe('malformed profiles are refused with the file, the field and the reason', () => {
  test('zero read bandwidth', () => {
    const raw = odroid();
    raw.storage.readMBps.value = 0;
    assert.match(refusal(raw), /^socs\/odroid-n2plus\.json: storage\.readMBps\.value: must be greater than 0, got 0$/);
  });

  test('negative cores', () => {
    const raw = odroid();
    raw.cpu.clusters[1].cores.value = -2;
    assert.match(refusal(raw), /: cpu\.clusters\[1\]\.cores\.value: must be greater than 0, got -2/);
  });

  test('an unknown field', () => {
    const raw = odroid();
    raw.storage.writeMBps = { value: 40, kind: 'measured', source: 'S2' };
    assert.match(refusal(raw), /: storage\.writeMBps: unknown field$/);
  });

  test('a kind that is not one of the four', () => {
    const raw = odroid();
    raw.memory.bandwidthGBps.kind = 'guessed';
    assert.match(refusal(raw), /: memory\.bandwidthGBps\.kind: must be one of measured, peak, derived, unverified, got "guessed"/);
  });

  test('a source id that is not in the sources list', () => {
    const raw = odroid();
    raw.layerOverheadMs.source = 'S99';
    assert.match(refusal(raw), /: layerOverheadMs\.source: source "S99" is not in the profile's sources list/);
  });

  test('a default cluster that does not exist', () => {
    const raw = odroid();
    raw.defaults.cluster = 'prime';
    assert.match(refusal(raw), /: defaults\.cluster: no cluster "prime" \(have big, little\)/);
  });

  test('a missing field', () => {
    const raw = odroid();
    delete raw.dequantMBpsPerCore;
    assert.match(refusal(raw), /: dequantMBpsPerCore: missing/);
  });

  test('a per-core peak that is the cluster total (a unit slip)', () => {
    const raw = odroid();
    raw.cpu.clusters[0].peakGflopsPerCore.value = 768;
    assert.match(refusal(raw), /: cpu\.clusters\[0\]\.peakGflopsPerCore\.value: .*FLOP\/cycle per core; expected 1 to 64/);
  });
});

describe('loading a directory of profiles', () => {
  const dirWith = (files: Record<string, string>) => {
    const dir = tempDir();
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  const odroidText = () => readFileSync(join(SOCS, 'odroid-n2plus.json'), 'utf8');
  const refusedLoad = (dir: string, userDir: string | null, pattern: RegExp) =>
    assert.throws(
      () => loadSocProfiles(dir, userDir),
      (e: unknown) => e instanceof UserError && !e.message.includes('\n') && pattern.test(e.message),
    );

  test('a file that is not JSON', () =>
    refusedLoad(dirWith({ 'odroid-n2plus.json': '{ "id": ' }), null, /odroid-n2plus\.json: not valid JSON/));

  test('a file name that does not match the id', () =>
    refusedLoad(
      dirWith({ 'odroid.json': odroidText() }),
      null,
      /odroid\.json: id: "odroid-n2plus" does not match the file name; name the file odroid-n2plus\.json/,
    ));

  test('a user profile may not reuse a bundled id', () => {
    const user = dirWith({ 'odroid-n2plus.json': odroidText() });
    refusedLoad(SOCS, user, new RegExp(`${user}/odroid-n2plus\\.json: id: "odroid-n2plus" is a bundled profile`));
  });

  test('user profiles with new ids are listed with the bundled ones', () => {
    const mine = { ...odroid(), id: 'my-odroid', name: 'My Odroid' };
    const user = tempDir();
    mkdirSync(join(user, 'nested'));
    writeFileSync(join(user, 'my-odroid.json'), JSON.stringify(mine));
    const ids = loadSocProfiles(SOCS, user).map((p) => p.id);
    assert.ok(ids.includes('my-odroid') && ids.includes('odroid-n2plus'));
    assert.deepEqual(ids, [...ids].sort());
  });

  test('an unknown id lists the known ones', () =>
    assert.throws(
      () => getSocProfile('odroid-n3', bundled()),
      (e: unknown) => e instanceof UserError && /unknown SoC profile "odroid-n3"; known ids: .*odroid-n2plus/.test(e.message),
    ));
});

describe('shardlab socs', () => {
  test('--json lists every profile with storage, compute and RAM', () => {
    const r = shardlab('socs', '--json');
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { id: string; storageMBps: number; computeUnit: string; cores: number; ramMB: number }[];
    for (const id of REQUIRED)
      assert.ok(
        rows.some((x) => x.id === id),
        id,
      );
    const o = rows.find((x) => x.id === 'odroid-n2plus')!;
    assert.deepEqual([o.storageMBps, o.computeUnit, o.cores, o.ramMB], [83.6, 'cpu', 4, 4096]);
  });

  test('prints an aligned table', () => {
    const r = shardlab('socs');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^id\s+name\s+storage\s+MB\/s\s+compute\s+RAM$/);
    const odroidLine = lines.find((l) => l.startsWith('odroid-n2plus '))!;
    assert.match(odroidLine, /eMMC.*\s83\.6\s+cpu, 4 x Cortex-A73\s+4 GB$/);
    assert.equal(odroidLine.indexOf('83.6'), lines[0].indexOf('MB/s'), 'columns line up');
    assert.ok(lines.some((l) => /^jetson-nano-gpu\s.*gpu, 4 x Cortex-A57/.test(l)));
  });

  test('show prints every number with its kind and source, and the citations', () => {
    const r = shardlab('socs', 'show', 'odroid-n2plus');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /storage\.readMBps\s+83\.6 MB\/s\s+derived\s+STI/);
    assert.match(r.stdout, /cpu\.clusters\[0\]\.peakGflopsPerCore\s+19\.2 GFLOP\/s\s+unverified\s+S20/);
    assert.match(r.stdout, /about 150 MB\/s raw/);
    assert.match(r.stdout, /sources\n {2}STI\s+reference\/sti\.md/);
  });

  test('show --json prints the profile as stored', () => {
    const r = shardlab('socs', 'show', 'jetson-nano-gpu', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(readFileSync(join(SOCS, 'jetson-nano-gpu.json'), 'utf8')));
  });

  test('show refuses an unknown id with exit code 2', () =>
    assertRefused(['socs', 'show', 'odroid-n3'], /unknown SoC profile "odroid-n3"; known ids: .*odroid-n2plus/));
});
