/** An RWKV model from either of its forms: an rwkv.cpp `.bin` file or a model directory. */
import { existsSync, statSync } from 'node:fs';
import { UserError } from '../../core/errors.js';
import { isBinFile, loadBinFile } from './bin-file.js';
import { isRwkvDir, loadModelDir } from './model-dir.js';
import type { RwkvWeights } from './weights.js';

/** True when `path` is an RWKV model: a file with the ggml magic, or a directory whose config.json says rwkv. */
export function isRwkvModel(path: string): boolean {
  try {
    if (!existsSync(path)) return false;
    return statSync(path).isFile() ? isBinFile(path) : isRwkvDir(path);
  } catch {
    return false;
  }
}

export function loadRwkv(path: string): RwkvWeights {
  if (!existsSync(path)) throw new UserError(`${path}: no such file or directory; give an rwkv.cpp .bin file or an RWKV model directory`);
  return statSync(path).isFile() ? loadBinFile(path) : loadModelDir(path);
}
