/**
 * The RWKV experiments the workbench keeps: live runs and recorded What-if plans, one JSON object a line
 * in `rwkv-runs.jsonl` in the data directory (appended whole, so a job process and the service can both
 * write; a line that does not parse is skipped, never fatal). Sweeps stay BERT's, in the experiment store.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from '../core/paths.js';
import type { RwkvRun } from './api.js';

const file = () => join(dataDir(), 'rwkv-runs.jsonl');

export function listRwkvRuns(): RwkvRun[] {
  if (!existsSync(file())) return [];
  const out: RwkvRun[] = [];
  for (const line of readFileSync(file(), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as RwkvRun;
      if (typeof r.id === 'number' && (r.kind === 'live' || r.kind === 'plan')) out.push(r);
    } catch {
      // a torn or foreign line: skipped
    }
  }
  return out.sort((a, b) => b.id - a.id);
}

/** Stores a run; its id is one more than the largest stored (ids only order runs; two at once may share one). */
export function addRwkvRun(run: Omit<RwkvRun, 'id' | 'at'>): RwkvRun {
  const id = Math.max(0, ...listRwkvRuns().map((r) => r.id)) + 1;
  const stored: RwkvRun = { id, at: new Date().toISOString(), ...run };
  mkdirSync(dataDir(), { recursive: true });
  appendFileSync(file(), JSON.stringify(stored) + '\n');
  return stored;
}
