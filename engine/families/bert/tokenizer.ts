import { existsSync, readFileSync } from 'node:fs';
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
  /** Whether supplementary-plane CJK ideographs are spaced before encoding (see spaceSupplementaryCjk). */
  private readonly spaceCjk: boolean;

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
      // BERT's separator, or RoBERTa's.
      sep = this.tokenizer.token_to_id('[SEP]') ?? this.tokenizer.token_to_id('</s>');
    } catch (e) {
      if (e instanceof UserError) throw e;
      const with_ = source.configFile ? ` (with ${source.configFile})` : '';
      throw new UserError(
        `${this.file}${with_}: the tokenizer cannot be built from it (${(e as Error)?.message ?? String(e)}); is it a Hugging Face tokenizer.json?`,
      );
    }
    if (sep === undefined) throw new UserError(`${this.file}: has no [SEP] (or </s>) token: it is not a BERT or RoBERTa tokenizer`);
    this.sepId = sep;
    const normalizer = (tokenizerJson as Record<string, unknown>).normalizer as Record<string, unknown> | null | undefined;
    this.spaceCjk = normalizer?.type === 'BertNormalizer' && normalizer.handle_chinese_chars !== false;
  }

  /**
   * The tokenizer of a model directory: its tokenizer.json, or else a WordPiece tokenizer built from its
   * vocab.txt (and tokenizer_config.json's settings) through the tokenizer library. Truncates at
   * `maxLength` (max_position_embeddings), or at tokenizer_config.json's model_max_length when smaller.
   */
  static fromDir(dir: string, maxLength: number, vocabSize?: number): TextEncoder {
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
    const settings = config as Record<string, unknown>;
    const modelMax = settings.model_max_length;
    // Hugging Face writes a huge number (int(1e30)) when a tokenizer sets no limit.
    if (typeof modelMax === 'number' && Number.isInteger(modelMax) && modelMax >= 2 && modelMax < maxLength) maxLength = modelMax;
    const jsonFile = join(dir, 'tokenizer.json');
    const vocabFile = join(dir, 'vocab.txt');
    let file = jsonFile;
    let json: object;
    if (!existsSync(jsonFile) && existsSync(vocabFile)) {
      file = vocabFile;
      json = wordPieceJson(readText(vocabFile), settings, vocabFile);
    } else json = parseJson(readText(jsonFile), jsonFile, 'is this a model directory?') as object;
    return new TextEncoder(json, config, maxLength, { vocabSize, file, configFile: configText === undefined ? undefined : configFile });
  }

  encode(text: string): TokenIds {
    let ids: number[];
    try {
      ids = this.tokenizer.encode(this.spaceCjk ? spaceSupplementaryCjk(text) : text).ids;
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
  /** An example's ids: its text, or its sentence pair (`textB`) with the pair's token types. */
  encodeExample(e: { text: string; textB?: string }): { ids: TokenIds; types?: Uint8Array } {
    return e.textB === undefined ? { ids: this.encode(e.text) } : this.encodePair(e.text, e.textB);
  }

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

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(
      `${file}: cannot read tokenizer (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); is this a model directory?`,
    );
  }
}

/**
 * CJK ideographs outside the Basic Multilingual Plane, in the ranges Hugging Face's Rust BertNormalizer
 * isolates (handle_chinese_chars). The tokenizer library's BertNormalizer steps through UTF-16 units and
 * misses them ("x \u{2C8E4}jab" became one [UNK] where the Rust tokenizer gives [UNK] ja ##b).
 */
const SUPPLEMENTARY_CJK = /[\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B920}-\u{2CEAF}\u{2F800}-\u{2FA1F}]/gu;

/**
 * `text` with a space either side of each supplementary-plane CJK ideograph: what the Rust normalizer does
 * to them, done before the library's normalizer (which does it for the BMP ones). The ids are the same: the
 * pre-tokenizer splits on whitespace, and cleaning, lower-casing and accent stripping leave these
 * characters and spaces as they are.
 */
export function spaceSupplementaryCjk(text: string): string {
  return text.replace(SUPPLEMENTARY_CJK, ' $& ');
}

const SPECIAL_DEFAULTS = { unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' };

/** A special token's text from tokenizer_config.json (a string, or an AddedToken object with content). */
function specialToken(settings: Record<string, unknown>, key: keyof typeof SPECIAL_DEFAULTS): string {
  const v = settings[key];
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && typeof (v as Record<string, unknown>).content === 'string')
    return (v as Record<string, string>).content;
  return SPECIAL_DEFAULTS[key];
}

/**
 * The tokenizer.json that transformers' BertTokenizerFast builds from a vocab.txt and tokenizer_config.json
 * (its converter, BertConverter): BertNormalizer (lower-casing and accent stripping from do_lower_case and
 * strip_accents, Chinese characters from tokenize_chinese_chars), BertPreTokenizer, WordPiece over the
 * vocabulary (one token a line, its id its line number) and [CLS] … [SEP] around the text.
 */
export function wordPieceJson(vocabText: string, settings: Record<string, unknown>, file: string): object {
  const lines = vocabText.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const vocab: Record<string, number> = {};
  lines.forEach((line, i) => (vocab[line.replace(/\r$/, '')] = i));
  if (lines.length === 0) throw new UserError(`${file}: empty; expected one WordPiece token a line`);
  const tok = Object.fromEntries(Object.keys(SPECIAL_DEFAULTS).map((k) => [k, specialToken(settings, k as keyof typeof SPECIAL_DEFAULTS)]));
  for (const key of ['cls_token', 'sep_token', 'unk_token'])
    if (!Object.hasOwn(vocab, tok[key]))
      throw new UserError(`${file}: has no ${tok[key]} token (${key}); is it a BERT WordPiece vocabulary?`);
  const lower = settings.do_lower_case !== false;
  const strip = settings.strip_accents;
  const [cls, sep] = [tok.cls_token, tok.sep_token];
  const added = [...new Set(Object.values(tok))]
    .filter((t) => Object.hasOwn(vocab, t))
    .map((t) => ({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }))
    .sort((a, b) => a.id - b.id);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: settings.tokenize_chinese_chars !== false,
      strip_accents: typeof strip === 'boolean' ? strip : null,
      lowercase: lower,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
      pair: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: {
        [cls]: { id: cls, ids: [vocab[cls]], tokens: [cls] },
        [sep]: { id: sep, ids: [vocab[sep]], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: tok.unk_token,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}
