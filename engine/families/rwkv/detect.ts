/** Recognising an RWKV model cheaply (fs only), for the family registry. Never throws. */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The magic that starts rwkv.cpp's model files ("ggmf" little-endian). */
export const GGML_MAGIC = 0x67676d66;

/** True when the file starts with the ggml magic. */
export function isBinFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32LE(0) === GGML_MAGIC;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** True when `dir` is a directory whose config.json says model_type "rwkv". */
export function isRwkvDir(dir: string): boolean {
  try {
    const j = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model_type?: unknown };
    return j?.model_type === 'rwkv';
  } catch {
    return false;
  }
}

/** True when `path` is an RWKV model: a file with the ggml magic, or a directory whose config.json says rwkv. */
export function isRwkvModel(path: string): boolean {
  try {
    if (!existsSync(path)) return false;
    return statSync(path).isFile() ? isBinFile(path) : isRwkvDir(path);
  } catch {
    return false;
  }
}
