import type { Ctx } from '../context.js';

/** A select of the planners the current model offers. */
export function PlannerSelect({ ctx, value, onChange, id }: { ctx: Ctx; value: string; onChange(v: string): void; id: string }) {
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
      {ctx.planners.map((p) => (
        <option key={p} value={p}>
          {p}
        </option>
      ))}
    </select>
  );
}
