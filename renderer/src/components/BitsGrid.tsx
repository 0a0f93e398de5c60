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
