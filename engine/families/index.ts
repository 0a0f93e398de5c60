/**
 * The registry of model families. Adding a family is one folder under engine/families/ and one line in
 * FAMILIES below; generic code finds a model's family here and never imports a family's folder itself.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson, UserError } from '../core/errors.js';
import { bertFamily } from './bert/family.js';
import { rwkvFamily } from './rwkv/family.js';
import type { CheckpointFacts, ModelFamily } from './family.js';

export { expandPlanners, rwkvNumbers } from './family.js';
export { checkDataFile } from './bert/data-file.js';
export type {
  CheckpointFacts,
  FamilyModel,
  ModelFamily,
  ModelInfo,
  PlannedRequest,
  PlannerInfo,
  PlanningRequest,
  QualityMetric,
  Split,
  TokenWorkbench,
} from './family.js';

/** What a BERT-family checkpoint directory holds (the workbench's import); its code, the tokenizer's included, loads when asked. */
export async function describeCheckpoint(dir: string): Promise<CheckpointFacts> {
  return (await import('./bert/describe.js')).describeCheckpoint(dir);
}

export const FAMILIES: readonly ModelFamily[] = [bertFamily, rwkvFamily];

export function getFamily(id: string): ModelFamily {
  const f = FAMILIES.find((x) => x.id === id);
  if (!f) throw new UserError(`unknown model family "${id}": use one of ${FAMILIES.map((x) => x.id).join(', ')}`);
  return f;
}

/** The family of a model directory, shard store or preset name. */
export function familyOf(dir: string): ModelFamily {
  const f = FAMILIES.find((x) => x.detect(dir));
  if (f) return f;
  if (!existsSync(dir)) throw new UserError(`${dir}: no such directory; --model takes a model directory`);
  if (!statSync(dir).isDirectory())
    throw new UserError(`${dir}: not a model directory, nor an rwkv.cpp .bin file (no ggml magic); --model takes a model directory`);
  const config = join(dir, 'config.json');
  if (existsSync(config)) {
    if (!statSync(config).isFile()) throw new UserError(`${config}: not a file; a model directory needs a config.json file`);
    const parsed = parseJson(readFileSync(config, 'utf8'), config, 'fix or replace it') as { model_type?: unknown } | null;
    const type = parsed?.model_type;
    throw new UserError(
      `${config}: model_type ${JSON.stringify(type)} is not a known model family (${FAMILIES.map((x) => x.id).join(', ')}); see shardlab families`,
    );
  }
  throw new UserError(
    `${dir}: not a model directory (no config.json); --model takes a model directory of a known family (see shardlab families)`,
  );
}
