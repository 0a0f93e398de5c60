/** An RWKV model directory opened to run on a modeled SoC: its runner for a setting, and the store it streams from. */
import type { Assembled } from '../compress/assemble.js';
import { openRwkvDir, type RwkvLm } from '../open.js';
import { EdgeStore } from './store.js';
import type { EdgeSetting } from './tokens.js';

export interface EdgeModel {
  lm: RwkvLm;
  store: EdgeStore;
  release(): Promise<void>;
}

export async function openEdge(dir: string, setting: EdgeSetting, opts: { threads?: number } = {}): Promise<EdgeModel> {
  let assembled: Assembled | undefined;
  const lm = await openRwkvDir(dir, { techniques: setting.spec, threads: opts.threads, onAssembled: (a) => (assembled = a) });
  try {
    const a = assembled!;
    // The layout depends on the weights that run (the model, or its low-rank source), INT8 and the head's clusters
    // (store.ts keys those two): not on thresholds or cache sizes, so toggling those reuses one layout.
    const lowrank = (lm.qualityKey as { lowrank?: unknown }).lowrank ?? null;
    const store = EdgeStore.open(a.weights, a.clusterHead, !!setting.spec.int8, { checksum: lm.checksum, lowrank });
    return {
      lm,
      store,
      release: async () => {
        store.close();
        await lm.release();
      },
    };
  } catch (e) {
    await lm.release();
    throw e;
  }
}
