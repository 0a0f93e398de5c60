/**
 * The registry of model families. Adding a family is one folder under engine/families/ and one line in
 * FAMILIES below; generic code finds a model's family here and never imports a family's folder itself.
 */
import { UserError } from '../core/errors.js';
import { bertFamily } from './bert/family.js';
import type { ModelFamily } from './family.js';

export type { FamilyModel, ModelFamily, ModelInfo, PlannedRequest, PlannerInfo, PlanningRequest, QualityMetric } from './family.js';

export const FAMILIES: readonly ModelFamily[] = [bertFamily];

export function getFamily(id: string): ModelFamily {
  const f = FAMILIES.find((x) => x.id === id);
  if (!f) throw new UserError(`unknown model family "${id}": use one of ${FAMILIES.map((x) => x.id).join(', ')}`);
  return f;
}

/** The family of a model directory, shard store or preset name. */
export function familyOf(dir: string): ModelFamily {
  const f = FAMILIES.find((x) => x.detect(dir));
  if (!f) throw new UserError(`${dir}: no model family recognises it (known: ${FAMILIES.map((x) => x.id).join(', ')}); --model takes a model directory`);
  return f;
}
