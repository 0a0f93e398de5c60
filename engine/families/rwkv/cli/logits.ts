import { readFileSync, statSync } from 'node:fs';
import { UserError } from '../../../core/errors.js';
import { compareLogits, argmax } from '../compare.js';
import { loadRwkv } from '../load.js';
import { compareWithReference, REFERENCE_TOLERANCE } from '../reference.js';
import { RwkvRunner } from '../runner.js';
import { describe, type RwkvWeights } from '../weights.js';

export interface LogitsFlags {
  model: string;
  tokens?: number[];
  expected?: string;
  reference?: boolean;
  json?: boolean;
}

/** Expected logits: V little-endian float32 (rwkv.cpp's expected-logits-*.bin), or a JSON array of V numbers. */
function readExpected(file: string, vocab: number): Float32Array {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (buf[0] === 0x5b) {
    let j: unknown;
    try {
      j = JSON.parse(buf.toString('utf8'));
    } catch {
      j = undefined;
    }
    if (!Array.isArray(j) || j.length !== vocab || !j.every((x) => typeof x === 'number'))
      throw new UserError(`${file}: expected a JSON array of ${vocab} numbers`);
    return Float32Array.from(j as number[]);
  }
  if (buf.length !== vocab * 4)
    throw new UserError(`${file}: ${buf.length} bytes; expected logits are ${vocab} little-endian float32 (${vocab * 4} bytes)`);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

function checkTokens(tokens: number[], w: RwkvWeights): void {
  const bad = tokens.find((t) => t >= w.vocab);
  if (bad !== undefined) throw new UserError(`--tokens: token ${bad} is not below the model's vocabulary of ${w.vocab}`);
}

/** shardlab logits for RWKV models: after --tokens (against --expected), or against reference-logits.json. */
export async function runLogits(flags: LogitsFlags): Promise<void | boolean> {
  if (flags.expected && !flags.tokens) throw new UserError('--expected needs --tokens: the logits are compared after those tokens');
  if (!flags.reference && !flags.tokens)
    throw new UserError('shardlab logits on an RWKV model needs --tokens LIST (with --expected FILE to compare) or --reference');
  if (flags.reference && (flags.tokens || flags.expected)) throw new UserError('give either --reference or --tokens/--expected, not both');
  if (flags.reference && statSync(flags.model).isFile())
    throw new UserError(`${flags.model}: an rwkv.cpp file has no reference-logits.json; use --tokens LIST --expected FILE`);
  const w = loadRwkv(flags.model);
  if (flags.reference) return reference(flags, w);
  checkTokens(flags.tokens!, w);
  const expected = flags.expected ? readExpected(flags.expected, w.vocab) : undefined;
  const runner = await RwkvRunner.open(w);
  const logits = await runner.logitsAfter(flags.tokens!);
  await runner.release();
  const base = { model: flags.model, version: w.version, tokens: flags.tokens! };
  if (!expected) {
    const out = { ...base, argmax: argmax(logits), logits: Array.from(logits) };
    if (flags.json) return console.log(JSON.stringify(out));
    console.log(`model       ${flags.model} (${describe(w)})`);
    console.log(`tokens      ${flags.tokens!.join(',')}`);
    console.log(`argmax      ${out.argmax} (logit ${logits[out.argmax].toFixed(4)})`);
    return;
  }
  const d = compareLogits(logits, expected);
  if (flags.json) return console.log(JSON.stringify({ ...base, ...d }));
  console.log(`model       ${flags.model} (${describe(w)})`);
  console.log(`tokens      ${flags.tokens!.join(',')}`);
  console.log(`maxAbsDiff  ${d.maxAbsDiff.toExponential(2)}`);
  console.log(`sumDiff     ${d.sumDiff.toExponential(2)} (signed)`);
  console.log(`argmax      ${d.argmax}${d.argmaxMatch ? ' (matches)' : `, expected ${d.expectedArgmax}`}`);
}

/** --reference: every prompt of the directory's reference-logits.json; false when one is off by more than 1e-4. */
async function reference(flags: LogitsFlags, w: RwkvWeights): Promise<boolean> {
  const runner = await RwkvRunner.open(w);
  const r = await compareWithReference(runner, flags.model).finally(() => runner.release());
  if (flags.json) console.log(JSON.stringify({ model: flags.model, version: w.version, ...r }));
  else {
    console.log(`reference   ${r.prompts.length} prompts, PyTorch logits after each prompt's last token`);
    for (const p of r.prompts)
      console.log(`  ${JSON.stringify(p.text.slice(0, 40))} (${p.tokens} tokens)   max |diff| ${p.maxAbsDiff.toExponential(2)}`);
    console.log(`maxAbsDiff  ${r.maxAbsDiff.toExponential(2)}${r.pass ? '' : ` (above ${REFERENCE_TOLERANCE})`}`);
  }
  return r.pass;
}
