import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { sha256 } from '../../core/checksum.js';
import { parseJson, UserError } from '../../core/errors.js';

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
  bits: z.union([z.number().int(), z.array(z.array(z.number().int()))], {
    message: 'must be a bitwidth or a matrix of bitwidths (one row per layer)',
  }),
});

/**
 * Validates a configuration against a store's shape and the bitwidths it holds. `where` names the
 * source (a file) in the one-line error. Layers and slices are checked against the model before a
 * uniform matrix is built from them, so nothing is allocated beyond the model's shape or the input.
 */
export function checkConfiguration(raw: unknown, where: string, shape: { layers: number; slices: number; bits: number[] }): Configuration {
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new UserError(
      `${where}: ${i.path.map(String).join('.') || 'configuration'}: ${i.message}; expected {"layers": N, "slices": M, "bits": B or [[...], ...]}`,
    );
  }
  const { layers, slices, bits } = parsed.data;
  if (layers > shape.layers) throw new UserError(`${where}: layers ${layers} exceeds the model's ${shape.layers}`);
  if (slices > shape.slices) throw new UserError(`${where}: slices ${slices} exceeds the model's ${shape.slices}`);
  if (typeof bits !== 'number') {
    const row = bits.findIndex((r) => r.length !== slices);
    if (bits.length !== layers || row !== -1)
      throw new UserError(
        `${where}: bits must be a number or a ${layers} x ${slices} matrix (one row per layer); ` +
          (bits.length !== layers ? `it has ${bits.length} rows` : `row ${row} has ${bits[row].length} entries`),
      );
  }
  const check = (b: number, at: string) => {
    if (!shape.bits.includes(b))
      throw new UserError(`${where}: bitwidth ${b} is not in the shard store (it has ${shape.bits.join(', ')})${at}`);
  };
  if (typeof bits === 'number') {
    check(bits, '');
    return uniformConfiguration(layers, slices, bits);
  }
  bits.forEach((r, l) => r.forEach((b, s) => check(b, ` at layer ${l}, slice ${s}`)));
  return { layers, slices, bits };
}

export function readConfiguration(file: string, shape: { layers: number; slices: number; bits: number[] }): Configuration {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read configuration (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return checkConfiguration(parseJson(text, file), file, shape);
}
