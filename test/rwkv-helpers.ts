import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ROOT } from './helpers.js';

/** rwkv.cpp's tiny test models live outside the repository (never copied into it). */
export const VECTORS = join(ROOT, '../shared/reference/rwkv-vectors');
export const PROMPT = [34, 105, 110];

export const VERSIONS = [
  { name: '4v0-660K', version: '4', ref: { FP32: 0.001, FP16: 0.013652 } },
  { name: '5v1-730K', version: '5.1', ref: { FP32: 0.001, FP16: 0.289921 } },
  { name: '5v2-730K', version: '5.2', ref: { FP32: 0.001, FP16: 0.455912 } },
] as const;

export const modelFile = (name: string, precision: 'FP32' | 'FP16') => join(VECTORS, `tiny-rwkv-${name}-${precision}.bin`);
export const expectedFile = (name: string) => join(VECTORS, `expected-logits-${name}.bin`);

/** The file's path, or undefined after marking the test skipped when it is absent. */
export function vector(t: TestContext, file: string): string | undefined {
  if (existsSync(file)) return file;
  t.skip(`${file} not found at ${VECTORS}: rwkv.cpp vectors live in shared/reference`);
  return undefined;
}

export function expectedLogits(name: string): Float32Array {
  const b = readFileSync(expectedFile(name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}
