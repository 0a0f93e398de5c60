import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { makeBatch } from './batch.js';
import type { BertModel } from './model.js';
import type { LayerWeights } from './weights.js';
import { loadTask, requireTask } from './datasets.js';
import { UserError } from '../../core/errors.js';

const ReferenceSchema = z.object({
  split: z.enum(['train', 'dev', 'test']),
  ids: z.array(z.string()),
  configs: z.array(z.object({ layers: z.number().int(), slices: z.number().int(), logits: z.array(z.array(z.number())) })),
});

export interface ReferenceComparison {
  examples: number;
  maxAbsDiff: number;
  configs: { layers: number; slices: number; maxAbsDiff: number }[];
}

/** Runs the examples of reference-logits.json through the engine and compares with PyTorch's logits. */
export async function compareWithReference(
  model: BertModel,
  task: string,
  weightsFor: (layers: number, slices: number) => LayerWeights[] = (n, m) => model.submodel(n, m),
): Promise<ReferenceComparison> {
  const file = join(model.dir, 'reference-logits.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: cannot read reference logits (${(e as Error).message})`);
  }
  const parsed = ReferenceSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(`${file}: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  const ref = parsed.data;
  const byId = new Map(loadTask(requireTask(task), ref.split).examples.map((e) => [e.id, e]));
  const seqs = ref.ids.map((id) => {
    const e = byId.get(id);
    if (!e) throw new UserError(`${file}: example "${id}" is not in the ${task} ${ref.split} split; the reference belongs to another task`);
    return model.tokenizer.encode(e.text);
  });
  const labels = model.config.labels.length;
  const configs = [];
  for (const c of ref.configs) {
    const logits = await model.logitsWith(makeBatch(seqs), weightsFor(c.layers, c.slices));
    let max = 0;
    c.logits.forEach((row, b) => row.forEach((v, k) => (max = Math.max(max, Math.abs(logits[b * labels + k] - v)))));
    configs.push({ layers: c.layers, slices: c.slices, maxAbsDiff: max });
  }
  return { examples: seqs.length, maxAbsDiff: Math.max(...configs.map((c) => c.maxAbsDiff)), configs };
}
