import type { PlanView } from '../../../engine/workbench/api.js';
import { bitColor, fmtBytes } from '../format.js';

/** The layer × slice grid of a plan: each shard's bits, preloaded ones marked. */
export function BitsGrid({ plan, compact }: { plan: PlanView; compact?: boolean }) {
  const rows = Array.from({ length: plan.layers }, (_, l) => plan.shards.filter((s) => s.layer === l).sort((a, b) => a.slice - b.slice));
  return (
    <table className={compact ? 'grid compact' : 'grid'} data-testid="bits-grid">
      <thead>
        <tr>
          <th />
          {rows[0]?.map((s) => (
            <th key={s.slice}>S{s.slice}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, l) => (
          <tr key={l}>
            <th>L{l}</th>
            {r.map((s) => (
              <td
                key={s.slice}
                className={s.preload ? 'cell preload' : 'cell'}
                style={{ background: bitColor(s.bits) }}
                title={`layer ${s.layer} shard ${s.slice}: ${s.bits}-bit, ${fmtBytes(s.bytes)}${s.preload ? ', in the preload buffer' : ', streamed'}`}
                data-bits={s.bits}
                data-preload={s.preload ? '1' : '0'}
              >
                {s.bits}
                {s.preload ? '•' : ''}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Legend() {
  return (
    <div className="legend">
      {[2, 3, 4, 5, 6, 32].map((b) => (
        <span key={b}>
          <i style={{ background: bitColor(b) }} /> {b}-bit
        </span>
      ))}
      <span>• preloaded</span>
    </div>
  );
}

/** The importance heatmap's colour for v on [lo, hi]: light blue (least important) to dark orange (most). */
export function heat(v: number, lo: number, hi: number): string {
  const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  return `hsl(${210 - 190 * t} 75% ${72 - 30 * t}%)`;
}

/** The colour scale of the heatmap, with its values (in %) at five points. */
export function HeatLegend({ lo, hi, label }: { lo: number; hi: number; label: string }) {
  const stops = [0, 0.25, 0.5, 0.75, 1];
  return (
    <div className="heat-legend" data-testid="heat-legend">
      <span className="muted">{label}</span>
      <div>
        <div
          className="heat-bar"
          style={{ background: `linear-gradient(to right, ${stops.map((t) => heat(lo + t * (hi - lo), lo, hi)).join(', ')})` }}
        />
        <div className="heat-ticks">
          {stops.map((t) => (
            <span key={t}>{(100 * (lo + t * (hi - lo))).toFixed(1)}</span>
          ))}
        </div>
      </div>
    </div>
  );
}
