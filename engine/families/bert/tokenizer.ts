import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { parseJson, shown, UserError } from '../../core/errors.js';

/** Token ids of one example, already truncated to the model's maximum length, [CLS] first. */
export type TokenIds = Int32Array;

export interface TokenizerSource {
  /** The model's vocab_size (config.json): every id the tokenizer can produce must be below it. */
  vocabSize?: number;
  /** The file the tokenizer came from, named in errors. */
  file?: string;
  /** The tokenizer_config.json read with it, when there was one. */
  configFile?: string;
}

/**
 * A WordPiece tokenizer loaded from a model directory's `tokenizer.json`, with BERT's truncation:
 * at most `maxLength` ids, the last one always [SEP]. With `vocabSize`, every id in the vocabulary is
 * checked to be below it when the tokenizer loads, and every id it produces when it encodes, so no id
 * can reach the embedding lookup out of range.
 */
export class TextEncoder {
  private readonly tokenizer: Tokenizer;
  private readonly sepId: number;
  private readonly file: string;
  private readonly vocabSize: number;

  constructor(
    tokenizerJson: object,
    config: object,
    readonly maxLength: number,
    source: TokenizerSource = {},
  ) {
    this.file = source.file ?? 'tokenizer.json';
    this.vocabSize = source.vocabSize ?? Infinity;
    if (tokenizerJson === null || typeof tokenizerJson !== 'object' || Array.isArray(tokenizerJson))
      throw new UserError(`${this.file}: not a JSON object; expected a Hugging Face tokenizer.json`);
    if (source.vocabSize !== undefined) checkVocabulary(tokenizerJson as Record<string, unknown>, source.vocabSize, this.file);
    let sep: number | undefined;
    try {
      this.tokenizer = new Tokenizer(tokenizerJson, config);
      sep = this.tokenizer.token_to_id('[SEP]');
    } catch (e) {
      if (e instanceof UserError) throw e;
      const with_ = source.configFile ? ` (with ${source.configFile})` : '';
      throw new UserError(
        `${this.file}${with_}: the tokenizer cannot be built from it (${(e as Error)?.message ?? String(e)}); is it a Hugging Face tokenizer.json?`,
      );
    }
    if (sep === undefined) throw new UserError(`${this.file}: has no [SEP] token: it is not a BERT WordPiece tokenizer`);
    this.sepId = sep;
  }

  static fromDir(dir: string, maxLength: number, vocabSize?: number): TextEncoder {
    const file = join(dir, 'tokenizer.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UserError(
        `${file}: cannot read tokenizer (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); is this a model directory?`,
      );
    }
    const json = parseJson(text, file, 'is this a model directory?') as object;
    const configFile = join(dir, 'tokenizer_config.json');
    let config: object = {};
    let configText: string | undefined;
    try {
      configText = readFileSync(configFile, 'utf8');
    } catch {
      // tokenizer_config.json is optional: the defaults fit a BERT tokenizer.
    }
    if (configText !== undefined) {
      const raw = parseJson(configText, configFile);
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
        throw new UserError(`${configFile}: not a JSON object of settings`);
      config = raw;
    }
    return new TextEncoder(json, config, maxLength, { vocabSize, file, configFile: configText === undefined ? undefined : configFile });
  }

  encode(text: string): TokenIds {
    let ids: number[];
    try {
      ids = this.tokenizer.encode(text).ids;
    } catch (e) {
      throw new UserError(`${this.file}: the tokenizer failed on a text (${(e as Error)?.message ?? String(e)})`);
    }
    for (const id of ids)
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize)
        throw new UserError(`${this.file}: the tokenizer produced id ${shown(id)}, outside the model's vocabulary of ${this.vocabSize}`);
    if (ids.length <= this.maxLength) return Int32Array.from(ids);
    const out = Int32Array.from(ids.slice(0, this.maxLength));
    out[this.maxLength - 1] = this.sepId;
    return out;
  }

  /**
   * A sentence pair as BERT reads it: [CLS] a [SEP] b [SEP], with token types 0 for [CLS] a [SEP] and 1 for
   * b [SEP]. Too long, the longer text loses its last token until the pair fits (Hugging Face's
   * `longest_first` truncation).
   */
  encodePair(a: string, b: string): { ids: TokenIds; types: Uint8Array } {
    const cls = this.tokenizer.token_to_id('[CLS]');
    if (cls === undefined) throw new UserError(`${this.file}: has no [CLS] token: it cannot encode sentence pairs`);
    const [ta, tb] = [a, b].map((text) => {
      try {
        return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
      } catch (e) {
        throw new UserError(`${this.file}: the tokenizer failed on a text (${(e as Error)?.message ?? String(e)})`);
      }
    });
    while (ta.length + tb.length + 3 > this.maxLength && ta.length + tb.length > 0) (ta.length > tb.length ? ta : tb).pop();
    const ids = [cls, ...ta, this.sepId, ...tb, this.sepId];
    for (const id of ids)
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize)
        throw new UserError(`${this.file}: the tokenizer produced id ${shown(id)}, outside the model's vocabulary of ${this.vocabSize}`);
    const types = new Uint8Array(ids.length);
    types.fill(1, ta.length + 2);
    return { ids: Int32Array.from(ids), types };
  }
}

/** Every id of the vocabulary and the added tokens is an integer below `vocabSize`. */
function checkVocabulary(json: Record<string, unknown>, vocabSize: number, file: string): void {
  const outside = (token: unknown, id: unknown, where: string) =>
    new UserError(
      `${file}: ${where} token ${shown(token)} has id ${shown(id)}; ids must be integers from 0 to ${vocabSize - 1} (vocab_size in config.json)`,
    );
  const inRange = (id: unknown) => Number.isInteger(id) && (id as number) >= 0 && (id as number) < vocabSize;
  const model = json.model;
  if (model === null || typeof model !== 'object' || Array.isArray(model))
    throw new UserError(`${file}: model: missing or not an object; expected a Hugging Face tokenizer.json`);
  const vocab = (model as Record<string, unknown>).vocab;
  if (Array.isArray(vocab)) {
    if (vocab.length > vocabSize)
      throw new UserError(`${file}: model.vocab has ${vocab.length} entries, more than vocab_size ${vocabSize} in config.json`);
  } else if (vocab !== null && typeof vocab === 'object') {
    for (const [token, id] of Object.entries(vocab)) if (!inRange(id)) throw outside(token, id, 'model.vocab');
  } else throw new UserError(`${file}: model.vocab: missing or not an object of token ids`);
  const unk = (model as Record<string, unknown>).unk_token;
  const added = json.added_tokens ?? [];
  if (
    typeof unk === 'string' &&
    !Array.isArray(vocab) &&
    !Object.hasOwn(vocab, unk) &&
    !(Array.isArray(added) && added.some((t) => (t as Record<string, unknown> | null)?.content === unk))
  )
    throw new UserError(`${file}: model.unk_token ${shown(unk)} is not in the vocabulary`);
  if (!Array.isArray(added)) throw new UserError(`${file}: added_tokens: not an array`);
  for (const t of added) {
    const entry = (t ?? {}) as Record<string, unknown>;
    if (typeof entry.content !== 'string') throw new UserError(`${file}: added_tokens: an entry has no content string (got ${shown(t)})`);
    if (!inRange(entry.id)) throw outside(entry.content, entry.id, 'added_tokens');
  }
}
