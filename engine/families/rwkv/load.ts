/** An RWKV model from either of its forms: an rwkv.cpp `.bin` file or a model directory. */
import { existsSync, statSync } from 'node:fs';
import { UserError } from '../../core/errors.js';
import { loadBinFile } from './bin-file.js';
import { loadModelDir } from './model-dir.js';
import type { RwkvWeights } from './weights.js';

export function loadRwkv(path: string): RwkvWeights {
  if (!existsSync(path)) throw new UserError(`${path}: no such file or directory; give an rwkv.cpp .bin file or an RWKV model directory`);
  return statSync(path).isFile() ? loadBinFile(path) : loadModelDir(path);
}
