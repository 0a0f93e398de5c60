import { DEFAULT_SEQ } from '../defaults.js';
import { readBertConfig, type BertConfig } from '../config.js';
import { isShapePreset, presetConfig } from '../presets.js';
import { computeLayer, sliceWeightBytes, type LayerShape } from '../cost.js';
import { CostModel } from '../../../soc/cost.js';
import { getSocProfile } from '../../../soc/load.js';
import { runSettings, type ThrottleFlags } from '../../../soc/throttles.js';

function shapeOf(arg: string): { name: string; config: BertConfig } {
  return isShapePreset(arg) ? { name: arg, config: presetConfig(arg) } : { name: arg, config: readBertConfig(arg) };
}

export interface CostFlags extends ThrottleFlags {
  soc: string;
  shape: string;
  seq?: number;
  json?: boolean;
}

/** shardlab cost: the cost model's per-layer and per-shard table. */
export async function runCost(flags: CostFlags): Promise<void> {
  const f = { ...flags, seq: flags.seq ?? DEFAULT_SEQ };
  const profile = getSocProfile(f.soc);
  const settings = runSettings(profile, f);
  const cost = new CostModel(profile, settings);
  const { name, config } = shapeOf(f.shape);
  const shape: LayerShape = config;
  const perSlice = sliceWeightBytes(shape);
  const widths = Array.from({ length: config.slices }, (_, i) => {
    const m = i + 1;
    const c = computeLayer(cost, shape, m, f.seq);
    return { slices: m, ...c, fp32Bytes: m * perSlice, fp32IoMs: cost.ioMs(m * perSlice) };
  });
  const shardBits = [2, 3, 4, 5, 6, 32].map((bits) => {
    const bytes = bits === 32 ? perSlice : (perSlice * bits) / 32;
    return { bits, bytes, ioMs: cost.ioMs(bytes), dequantMs: bits === 32 ? 0 : cost.dequantMs(bytes) };
  });
  const out = {
    soc: profile.id,
    shape: name,
    seq: f.seq,
    settings,
    layers: config.layers,
    slices: config.slices,
    widths,
    shards: shardBits,
  };
  if (f.json) return console.log(JSON.stringify(out));
  console.log(
    `${profile.name} (${profile.id}), ${settings.computeUnit === 'gpu' ? profile.gpu!.name : `${settings.cores} x ${cost.cluster.core}`}` +
      (settings.clockGhz ? ` @ ${settings.clockGhz} GHz` : '') +
      `, storage ${cost.readMBps} MB/s`,
  );
  console.log(
    `${name}: ${config.layers} layers, hidden ${config.hidden}, ${config.heads} heads, FFN ${config.intermediate}, ${f.seq} tokens`,
  );
  console.log('slices  attention ms  FFN ms  overhead ms  compute ms   fp32 MB  fp32 IO ms');
  for (const w of widths)
    console.log(
      `${String(w.slices).padStart(6)}  ${w.attentionMs.toFixed(1).padStart(12)}  ${w.ffnMs.toFixed(1).padStart(6)}  ${w.overheadMs.toFixed(1).padStart(11)}  ${w.totalMs.toFixed(1).padStart(10)}  ${(w.fp32Bytes / 1e6).toFixed(2).padStart(8)}  ${w.fp32IoMs.toFixed(1).padStart(10)}`,
    );
  console.log('per shard: bits  KB (payload)  IO ms  dequant ms');
  for (const s of shardBits)
    console.log(
      `           ${String(s.bits).padStart(4)}  ${(s.bytes / 1e3).toFixed(1).padStart(12)}  ${s.ioMs.toFixed(2).padStart(5)}  ${s.dequantMs.toFixed(2).padStart(10)}`,
    );
}
