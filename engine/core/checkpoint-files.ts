/**
 * Where a Hugging Face checkpoint directory keeps its weights: one model.safetensors, or shards listed by
 * model.safetensors.index.json. Formats shardlab does not read (PyTorch's pickle, TensorFlow's HDF5, Flax's
 * msgpack) are refused by name with the one-line conversion.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseJson, shown, UserError } from './errors.js';
import { readSafetensorsContents, readSafetensorsHeader, type SafetensorsContents, type TensorEntry } from './safetensors.js';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

/** What may stand for a file that defines a model when the checkpoint lacks it: sharded weights' index; a WordPiece vocabulary. */
export const STAND_INS: Readonly<Record<string, readonly string[]>> = {
  [SINGLE_FILE]: [INDEX_FILE],
  'tokenizer.json': ['vocab.txt'],
};

/** Weight files of other frameworks, which shardlab does not read. */
const FOREIGN: [file: string, format: string, fromArg: string][] = [
  ['pytorch_model.bin', "PyTorch's pickle format", ''],
  ['pytorch_model.bin.index.json', "PyTorch's pickle format, sharded", ''],
  ['tf_model.h5', "TensorFlow's HDF5 format", ', from_tf=True'],
  ['flax_model.msgpack', "Flax's msgpack format", ', from_flax=True'],
];

/** The one-line conversion to safetensors, run where transformers is installed (`fromArg`: from_tf or from_flax). */
export function conversionCommand(dir: string, fromArg = ''): string {
  const d = JSON.stringify(dir).slice(1, -1).replace(/'/g, "\\'");
  return `python -c "from transformers import AutoModelForSequenceClassification as M; M.from_pretrained('${d}'${fromArg}).save_pretrained('${d}', safe_serialization=True)"`;
}

/** The checkpoint's safetensors files (one, or the index's shards in order) and the index when sharded. */
export interface CheckpointFiles {
  files: string[];
  index?: string;
  /** The file each tensor lives in, by the index (sharded checkpoints only). */
  weightMap?: Map<string, string>;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** True when `dir` has safetensors weights (one file or an index). */
export function hasSafetensorsWeights(dir: string): boolean {
  return isFile(join(dir, SINGLE_FILE)) || isFile(join(dir, INDEX_FILE));
}

/**
 * Refuses a directory whose only weights are in a format shardlab does not read, naming the file and the
 * conversion. Does nothing when it has safetensors weights or no weights at all.
 */
export function refuseForeignWeights(dir: string): void {
  if (hasSafetensorsWeights(dir)) return;
  const found = FOREIGN.find(([f]) => existsSync(join(dir, f)));
  if (!found) return;
  const [file, format, fromArg] = found;
  throw new UserError(
    `${join(dir, file)}: ${format}, which shardlab does not read (no model.safetensors); convert it to safetensors with transformers: ${conversionCommand(dir, fromArg)}`,
  );
}

/** Locates a checkpoint's safetensors weights, checking the index of a sharded one. */
export function checkpointFiles(dir: string): CheckpointFiles {
  refuseForeignWeights(dir);
  if (isFile(join(dir, SINGLE_FILE))) return { files: [join(dir, SINGLE_FILE)] };
  const index = join(dir, INDEX_FILE);
  if (!isFile(index))
    throw new UserError(`${join(dir, SINGLE_FILE)}: missing; a model directory needs model.safetensors (or ${INDEX_FILE} and its shards)`);
  const raw = parseJson(readFileSync(index, 'utf8'), index);
  const map = (raw as Record<string, unknown> | null)?.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map))
    throw new UserError(`${index}: weight_map: missing or not an object of tensor names to files`);
  const weightMap = new Map<string, string>();
  const files: string[] = [];
  for (const [name, f] of Object.entries(map as Record<string, unknown>)) {
    if (typeof f !== 'string' || f !== basename(f) || f === '..' || f === '.' || !f.endsWith('.safetensors'))
      throw new UserError(
        `${index}: weight_map: tensor ${shown(name)} maps to ${shown(f)}; expected a .safetensors file name in this directory`,
      );
    const path = join(dir, f);
    if (!files.includes(path)) {
      if (!isFile(path)) throw new UserError(`${path}: missing; ${INDEX_FILE} lists it`);
      files.push(path);
    }
    weightMap.set(name, path);
  }
  if (files.length === 0) throw new UserError(`${index}: weight_map lists no tensors`);
  return { files, index, weightMap };
}

/** Every file that defines the checkpoint's weights, for its checksum: the index first, then the shards in order. */
export function weightFilesForChecksum(dir: string): string[] {
  const { files, index } = checkpointFiles(dir);
  return index ? [index, ...files] : files;
}

/** Checks that each tensor is in the shard the index names (a misplaced tensor means a damaged checkpoint). */
function checkPlacement(c: CheckpointFiles, file: string, names: string[]): void {
  if (!c.weightMap || !c.index) return;
  for (const name of names) {
    const want = c.weightMap.get(name);
    if (want !== file)
      throw new UserError(
        `${file}: tensor ${shown(name)} ${want ? `is listed in ${c.index} under ${basename(want)}` : `is not listed in ${c.index}`}; the index and its shards do not match`,
      );
  }
}

/** Every tensor of the checkpoint (all shards), floating-point ones as fp32; the others named as ignored. */
export function readCheckpoint(dir: string): SafetensorsContents & { files: string[] } {
  const c = checkpointFiles(dir);
  const tensors: SafetensorsContents['tensors'] = new Map();
  const ignored: SafetensorsContents['ignored'] = [];
  for (const file of c.files) {
    const part = readSafetensorsContents(file);
    checkPlacement(c, file, [...part.tensors.keys(), ...part.ignored.map((t) => t.name)]);
    for (const [name, t] of part.tensors) tensors.set(name, t);
    ignored.push(...part.ignored);
  }
  if (c.weightMap) {
    const missing = [...c.weightMap.keys()].find((n) => !tensors.has(n) && !ignored.some((t) => t.name === n));
    if (missing !== undefined)
      throw new UserError(`${c.weightMap.get(missing)}: tensor ${shown(missing)} is missing, though ${c.index} lists it there`);
  }
  return { tensors, ignored, files: c.files };
}

/** The headers of every weights file of the checkpoint, merged (without reading the data). */
export function readCheckpointHeaders(dir: string): { tensors: (TensorEntry & { file: string })[] } {
  const c = checkpointFiles(dir);
  const tensors: (TensorEntry & { file: string })[] = [];
  for (const file of c.files) {
    const h = readSafetensorsHeader(file);
    checkPlacement(
      c,
      file,
      h.tensors.map((t) => t.name),
    );
    tensors.push(...h.tensors.map((t) => ({ ...t, file })));
  }
  return { tensors };
}
