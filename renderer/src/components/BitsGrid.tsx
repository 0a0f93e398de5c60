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

/** Viridis at five stops (perceptually uniform, colour-blind safe, readable in grey). */
const VIRIDIS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];
const unit = (v: number, lo: number, hi: number) => (hi > lo ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 0.5);

/** The importance heatmap's colour for v on [lo, hi]: dark purple (least important) to yellow (most). */
export function heat(v: number, lo: number, hi: number): string {
  const t = unit(v, lo, hi) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(t));
  const f = t - i;
  const [r, g, b] = VIRIDIS[i].map((c, k) => Math.round(c + f * (VIRIDIS[i + 1][k] - c)));
  return `rgb(${r} ${g} ${b})`;
}

/** Text on a heat cell: white on the dark half of the scale, black on the light half. */
export const heatText = (v: number, lo: number, hi: number) => (unit(v, lo, hi) < 0.55 ? '#fff' : '#111');

/** The colour scale of the heatmap, with its values (in %) at five points; one swatch when every cell is equal. */
export function HeatLegend({ lo, hi, label }: { lo: number; hi: number; label: string }) {
  if (!(hi > lo))
    return (
      <div className="heat-legend" data-testid="heat-legend">
        <span className="muted">{label}</span>
        <i className="heat-swatch" style={{ background: heat(lo, lo, hi) }} />
        <span>every shard {(100 * lo).toFixed(1)}: the profile tells no shard from another</span>
      </div>
    );
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
