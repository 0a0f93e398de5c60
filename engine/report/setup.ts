/** What both reports (BERT's and RWKV's sweeps) share: the page's CSS and the SoC profiles' tables. */
import type { SocProfile } from '../soc/profile.js';
import { esc } from './svg.js';

/** Each SoC's numbers with their kind and source, as the setup sections of both reports show them. */
export function socTables(profiles: SocProfile[]): string[] {
  return profiles.map((p) => {
    const cl = p.cpu.clusters.find((c) => c.id === p.defaults.cluster)!;
    type Cell = { value: number; kind: string; source: string; note?: string } | string;
    const rows: (readonly [string, Cell, string])[] = [
      ['storage', p.storage.kind, ''],
      ['read bandwidth', p.storage.readMBps, 'MB/s'],
      ['request latency', p.storage.requestLatencyMs, 'ms'],
      ['compute unit', `${p.defaults.computeUnit}${p.defaults.computeUnit === 'gpu' ? ` (${p.gpu?.name})` : ''}`, ''],
      ['cores × clock', `${p.defaults.cores} × ${cl.core} @ ${cl.ghz.value} GHz`, ''],
      ['peak GFLOP/s per core', cl.peakGflopsPerCore, ''],
      ['CPU efficiency', p.computeEfficiency, ''],
      ['layer overhead', p.layerOverheadMs, 'ms'],
      ...(p.gpu
        ? ([
            ['GPU peak GFLOP/s', p.gpu.peakGflops, ''],
            ['GPU efficiency', p.gpu.computeEfficiency, ''],
          ] as const)
        : []),
      ['dequantization per core', p.dequantMBpsPerCore, 'MB/s'],
      ['RAM', p.memory.ramMB, 'MB'],
    ];
    const body = rows
      .map(([k, v, unit]) =>
        typeof v === 'string'
          ? `<tr><td>${esc(k)}</td><td>${esc(v)}</td><td></td><td></td></tr>`
          : `<tr><td>${esc(k)}</td><td>${v.value} ${unit}</td><td>${esc(v.kind)}</td><td>${esc(v.source)}${v.note ? ` — ${esc(v.note)}` : ''}</td></tr>`,
      )
      .join('');
    const cites = p.sources.map((c) => `<li><b>${esc(c.id)}</b>: ${esc(c.citation)}</li>`).join('');
    return `<h3>${esc(p.name)} (<code>${esc(p.id)}</code>)</h3><table><tr><th>quantity</th><th>value</th><th>kind</th><th>source</th></tr>${body}</table><details><summary>sources</summary><ul>${cites}</ul></details>`;
  });
}

export const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0;font-size:12.5px}td,th{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f4f4f4}tr.bad td{background:#fde8e8}.ok{color:#1a7f37}.bad{color:#c62828}.empty{color:#777}
svg{display:block;margin:10px 0;max-width:100%;height:auto}svg .grid{stroke:#eee}svg .tick{font-size:10.5px;fill:#555}svg .axis{font-size:11.5px;fill:#333}svg .ct{font-size:12.5px;font-weight:600;fill:#222}code{font-size:12px}`;
