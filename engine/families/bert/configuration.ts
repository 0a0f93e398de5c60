import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { sha256 } from '../../core/checksum.js';
import { UserError } from '../../core/errors.js';

/** What to run: the first `layers` layers, the first `slices` slices of each, and each shard's bitwidth. */
export interface Configuration {
  layers: number;
  slices: number;
  /** bits[layer][slice], for layer < layers and slice < slices. */
  bits: number[][];
}

export function uniformConfiguration(layers: number, slices: number, bits: number): Configuration {
  return { layers, slices, bits: Array.from({ length: layers }, () => Array<number>(slices).fill(bits)) };
}

/** A stable id for caching: sha256 of the canonical JSON (first 16 hex characters). */
export function configurationHash(c: Configuration): string {
  return sha256(Buffer.from(JSON.stringify({ layers: c.layers, slices: c.slices, bits: c.bits }))).slice(0, 16);
}

const FileSchema = z.object({
  layers: z.number().int().positive(),
  slices: z.number().int().positive(),
  /** One bitwidth for every shard, or a layers × slices matrix. */
  bits: z.union([z.number().int(), z.array(z.array(z.number().int()))]),
});

/**
 * Validates a configuration against a store's shape and the bitwidths it holds. `where` names the
 * source (a file) in the one-line error.
 */
export function checkConfiguration(raw: unknown, where: string, shape: { layers: number; slices: number; bits: number[] }): Configuration {
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new UserError(
      `${where}: ${i.path.join('.') || 'configuration'}: ${i.message}; expected {"layers": N, "slices": M, "bits": B or [[...], ...]}`,
    );
  }
  const { layers, slices, bits } = parsed.data;
  if (layers > shape.layers) throw new UserError(`${where}: layers ${layers} exceeds the model's ${shape.layers}`);
  if (slices > shape.slices) throw new UserError(`${where}: slices ${slices} exceeds the model's ${shape.slices}`);
  const matrix = typeof bits === 'number' ? uniformConfiguration(layers, slices, bits).bits : bits;
  if (matrix.length !== layers || matrix.some((row) => row.length !== slices))
    throw new UserError(`${where}: bits must be a number or a ${layers} x ${slices} matrix (one row per layer)`);
  for (const b of matrix.flat())
    if (!shape.bits.includes(b)) throw new UserError(`${where}: bitwidth ${b} is not in the shard store (it has ${shape.bits.join(', ')})`);
  return { layers, slices, bits: matrix };
}

export function readConfiguration(file: string, shape: { layers: number; slices: number; bits: number[] }): Configuration {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: cannot read configuration (${(e as NodeJS.ErrnoException).code ?? 'not valid JSON'})`);
  }
  return checkConfiguration(raw, file, shape);
}
