/**
 * The generic cost model: how long IO, dequantization and compute take on a modeled SoC.
 *   IO:      per-request latency + bytes / read bandwidth.
 *   Compute: a roofline, max(FLOPs / sustained FLOP/s, bytes moved / memory bandwidth), plus a per-layer
 *            overhead; each family counts its own FLOPs and bytes (families/<id>/cost.ts).
 *   Dequant: compressed bytes / (per-core throughput x cores), scaled to the chosen cluster and clock.
 * Calibrated in socs/odroid-n2plus.json so a BERT-base layer (hidden 768, 12 heads, FFN 3072, 128
 * tokens) computes in about 95 ms and its 28 MB of fp32 weights load in about 339 ms (STI §5.3).
 */
import { UserError } from '../core/errors.js';
import type { Cluster, SocProfile } from './profile.js';

/** Per-run throttles: which unit computes, on which cluster and how many cores, at what clock, with what IO. */
export interface RunSettings {
  computeUnit: 'cpu' | 'gpu';
  cluster: string;
  cores: number;
  /** Clock cap in GHz (at most the cluster's clock). */
  clockGhz?: number;
  /** Storage read bandwidth override, MB/s. */
  ioMBps?: number;
}

export interface SettingsOverrides {
  computeUnit?: 'cpu' | 'gpu';
  cluster?: string;
  cores?: number;
  clockGhz?: number;
  ioMBps?: number;
}

export function resolveSettings(p: SocProfile, o: SettingsOverrides = {}): RunSettings {
  const computeUnit = o.computeUnit ?? p.defaults.computeUnit;
  if (computeUnit === 'gpu' && !p.gpu) throw new UserError(`--unit gpu: ${p.id} has no GPU in its profile`);
  const clusterId = o.cluster ?? p.defaults.cluster;
  const cluster = p.cpu.clusters.find((c) => c.id === clusterId);
  if (!cluster) throw new UserError(`--cluster ${clusterId}: ${p.id} has clusters ${p.cpu.clusters.map((c) => c.id).join(', ')}`);
  const cores = o.cores ?? Math.min(p.defaults.cores, cluster.cores.value);
  if (!Number.isInteger(cores) || cores < 1 || cores > cluster.cores.value)
    throw new UserError(`--cores ${cores}: the ${cluster.id} cluster of ${p.id} has ${cluster.cores.value} cores`);
  if (o.clockGhz !== undefined && !(o.clockGhz > 0 && o.clockGhz <= cluster.ghz.value))
    throw new UserError(`--clock-ghz ${o.clockGhz}: must be above 0 and at most the ${cluster.id} cluster's ${cluster.ghz.value} GHz`);
  if (o.ioMBps !== undefined && !(o.ioMBps > 0)) throw new UserError(`--io-mbps ${o.ioMBps}: must be a positive bandwidth in MB/s`);
  return { computeUnit, cluster: cluster.id, cores, clockGhz: o.clockGhz, ioMBps: o.ioMBps };
}

/** Cost models made by costModelOf, by their profile's and settings' values, most recent last. */
const kept = new Map<string, CostModel>();
const KEPT = 32;

/**
 * The cost model of a profile and settings: the same object while their values are the same. Planners
 * keep their tables per cost model (families/bert/plan/shard-costs.ts), and the workbench reads the
 * profiles again for every query (so an edited profile counts at once), which made every plan fill those
 * tables again: a bert-large STI plan took 2–4× as long as with them kept.
 */
export function costModelOf(profile: SocProfile, settings: RunSettings): CostModel {
  const key = JSON.stringify([profile, settings]);
  const known = kept.get(key);
  if (known) {
    kept.delete(key);
    kept.set(key, known);
    return known;
  }
  const made = new CostModel(profile, settings);
  kept.set(key, made);
  if (kept.size > KEPT) kept.delete(kept.keys().next().value!);
  return made;
}

export class CostModel {
  readonly cluster: Cluster;

  constructor(
    readonly profile: SocProfile,
    readonly settings: RunSettings,
  ) {
    this.cluster = profile.cpu.clusters.find((c) => c.id === settings.cluster)!;
  }

  private get clockScale(): number {
    const ghz = this.cluster.ghz.value;
    return Math.min(this.settings.clockGhz ?? ghz, ghz) / ghz;
  }

  /** Sustained FLOP/s of the compute unit under this run's throttles. */
  get flopsPerSecond(): number {
    const p = this.profile;
    if (this.settings.computeUnit === 'gpu') return p.gpu!.peakGflops.value * p.gpu!.computeEfficiency.value * 1e9;
    return this.settings.cores * this.cluster.peakGflopsPerCore.value * this.clockScale * p.computeEfficiency.value * 1e9;
  }

  get memoryBytesPerSecond(): number {
    return this.profile.memory.bandwidthGBps.value * 1e9;
  }

  get layerOverheadMs(): number {
    const p = this.profile;
    if (this.settings.computeUnit === 'gpu') return p.gpu!.layerOverheadMs.value;
    return p.layerOverheadMs.value / this.clockScale;
  }

  /** A roofline: the longer of compute at the sustained FLOP/s and memory traffic at the memory bandwidth, ms. */
  rooflineMs(flops: number, bytes: number): number {
    return 1000 * Math.max(flops / this.flopsPerSecond, bytes / this.memoryBytesPerSecond);
  }

  get readMBps(): number {
    return this.settings.ioMBps ?? this.profile.storage.readMBps.value;
  }

  /** Time to read one request of `bytes` from storage. */
  ioMs(bytes: number): number {
    return this.profile.storage.requestLatencyMs.value + (bytes / 1e6 / this.readMBps) * 1000;
  }

  /**
   * Dequantization runs on the CPU cluster of this run (also when a GPU computes); its throughput scales
   * with that cluster's per-core peak and clock relative to the profile's default cluster.
   */
  dequantMs(compressedBytes: number): number {
    return this.cpuThroughputMs(compressedBytes, this.profile.dequantMBpsPerCore.value);
  }

  /** Time to make one stored shard ready for compute: dequantize it, or prepare it when it is fp32. */
  decompressMs(bits: number, storedBytes: number): number {
    return bits === 32 ? this.cpuThroughputMs(storedBytes, this.profile.fp32CopyMBpsPerCore.value) : this.dequantMs(storedBytes);
  }

  private cpuThroughputMs(bytes: number, mbpsPerDefaultCore: number): number {
    const p = this.profile;
    const base = p.cpu.clusters.find((c) => c.id === p.defaults.cluster)!;
    const perCore = mbpsPerDefaultCore * ((this.cluster.peakGflopsPerCore.value * this.clockScale) / base.peakGflopsPerCore.value);
    return (bytes / 1e6 / (perCore * this.settings.cores)) * 1000;
  }
}
