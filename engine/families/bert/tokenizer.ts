import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../../core/errors.js';

/** Token ids of one example, already truncated to the model's maximum length, [CLS] first. */
export type TokenIds = Int32Array;

/**
 * A WordPiece tokenizer loaded from a model directory's `tokenizer.json`, with BERT's truncation:
 * at most `maxLength` ids, the last one always [SEP].
 */
export class TextEncoder {
  private readonly tokenizer: Tokenizer;
  private readonly sepId: number;

  constructor(
    tokenizerJson: object,
    config: object,
    readonly maxLength: number,
  ) {
    this.tokenizer = new Tokenizer(tokenizerJson, config);
    const sep = this.tokenizer.token_to_id('[SEP]');
    if (sep === undefined) throw new UserError('tokenizer.json has no [SEP] token: it is not a BERT WordPiece tokenizer');
    this.sepId = sep;
  }

  static fromDir(dir: string, maxLength: number): TextEncoder {
    const file = join(dir, 'tokenizer.json');
    let json: object;
    try {
      json = JSON.parse(readFileSync(file, 'utf8')) as object;
    } catch (e) {
      throw new UserError(`${file}: cannot read tokenizer (${(e as Error).message}); is this a model directory?`);
    }
    let config: object = {};
    try {
      config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as object;
    } catch {
      // tokenizer_config.json is optional: the defaults fit a BERT tokenizer.
    }
    return new TextEncoder(json, config, maxLength);
  }

  encode(text: string): TokenIds {
    const ids = this.tokenizer.encode(text).ids;
    if (ids.length <= this.maxLength) return Int32Array.from(ids);
    const out = Int32Array.from(ids.slice(0, this.maxLength));
    out[this.maxLength - 1] = this.sepId;
    return out;
  }
}
