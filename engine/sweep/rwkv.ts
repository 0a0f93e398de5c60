/** The RWKV family's sweeps, reached through the family registry (engine/families/rwkv/sweep.ts implements them). */
import { getFamily } from '../families/index.js';
import type { RwkvSweeps } from './rwkv-types.js';

export async function rwkvSweeps(): Promise<RwkvSweeps> {
  const family = getFamily('rwkv');
  if (!family.sweeps) throw new Error('the rwkv family has no sweeps');
  return (await family.sweeps()) as RwkvSweeps;
}
