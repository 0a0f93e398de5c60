/**
 * Text handling the families' corpora share: the deterministic split of a document by its id, the text of
 * a raw e-mail, and passages of whole sentences.
 */
import { hash } from 'node:crypto';
import type { Split } from './splits.js';

/**
 * Deterministic split: the first 4 bytes of sha256(key) as a fraction; 80 % train, 10 % dev, 10 % test.
 * `key` is the unit that must not be split across sets (an e-mail; a whole speech for sotu).
 */
export function splitOf(key: string): Split {
  const u = hash('sha256', key, 'buffer').readUInt32BE(0) / 2 ** 32;
  return u < 0.8 ? 'train' : u < 0.9 ? 'dev' : 'test';
}

/** Text characters kept per e-mail: far more than 128 tokens, so truncation happens in the tokenizer. */
const EMAIL_CHARS = 3000;

/**
 * Subject and body of a raw e-mail; every other header is dropped (sender, relays and dates would make
 * the task trivial). MIME part headers, boundaries, HTML tags and quoted-printable soft breaks go too.
 */
export function emailText(raw: string): string {
  const text = raw.replace(/\r\n?/g, '\n');
  const cut = text.indexOf('\n\n');
  const headers = cut < 0 ? text : text.slice(0, cut);
  const body = cut < 0 ? '' : text.slice(cut + 2);
  const unfolded = headers.replace(/\n[ \t]+/g, ' ');
  const subject = /^subject:(.*)$/im.exec(unfolded)?.[1]?.trim() ?? '';
  const cleanBody = body
    .replace(/=\n/g, '')
    .split('\n')
    .filter((line) => !/^(content-[\w-]+|mime-version)\s*:/i.test(line) && !/^--\S+\s*$/.test(line))
    .join('\n')
    .replace(/<style[\s\S]*?<\/style>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&amp;/gi, '&')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/\s+/g, ' ')
    .trim();
  return `${subject}\n${cleanBody}`.slice(0, EMAIL_CHARS);
}

/** A passage is consecutive whole sentences, at least this many words (the corpus has no paragraph marks). */
const PASSAGE_WORDS = 60;

/** Groups sentences into passages of at least PASSAGE_WORDS words; a short tail joins the last passage. */
export function passages(text: string): string[] {
  const sentences = text
    .replace(/\s+/g, ' ')
    .trim()
    .split(/(?<=[.!?])\s+(?=["'(A-Z0-9])/);
  const out: string[] = [];
  let current: string[] = [];
  let words = 0;
  for (const sentence of sentences) {
    current.push(sentence);
    words += sentence.split(' ').length;
    if (words >= PASSAGE_WORDS) {
      out.push(current.join(' '));
      current = [];
      words = 0;
    }
  }
  if (current.length > 0) {
    if (out.length > 0 && words < PASSAGE_WORDS / 2) out[out.length - 1] += ' ' + current.join(' ');
    else out.push(current.join(' '));
  }
  return out;
}
