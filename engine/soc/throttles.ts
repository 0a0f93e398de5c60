/** A run's throttles as the CLI's flags name them (--unit, --cluster, --cores, --clock-ghz, --io-mbps). */
import { resolveSettings, type RunSettings } from './cost.js';
import type { SocProfile } from './profile.js';

export interface ThrottleFlags {
  unit?: 'cpu' | 'gpu';
  cluster?: string;
  cores?: number;
  clockGhz?: number;
  ioMbps?: number;
}

export function runSettings(profile: SocProfile, f: ThrottleFlags): RunSettings {
  return resolveSettings(profile, { computeUnit: f.unit, cluster: f.cluster, cores: f.cores, clockGhz: f.clockGhz, ioMBps: f.ioMbps });
}
