/** Longest message a UserError keeps; the rest of a longer one is cut (with a note saying so). */
const MAX_MESSAGE = 2000;

/**
 * An error caused by user input (a file, a flag, a model directory). The CLI prints its message as one
 * line and exits with code 2; it never shows a stack trace for these. The message is made one line here:
 * line breaks become spaces and other control characters are escaped, so a name read from a file (a
 * JSON key, a tensor name) cannot split it.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(oneLine(message));
    this.name = 'UserError';
  }
}

/** `text` as one printable line of at most `max` characters. */
export function oneLine(text: string, max = MAX_MESSAGE): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/\r\n|[\n\r\u2028\u2029]/g, ' ').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return flat.length <= max ? flat : `${flat.slice(0, max)}… (${flat.length - max} more characters)`;
}

/**
 * A value from a user's file as it may appear in a message: JSON, cut to `max` characters. Never throws
 * (a value too deep to stringify is described by its type).
 */
export function shown(value: unknown, max = 60): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(value);
  } catch {
    s = undefined;
  }
  if (s === undefined) s = Array.isArray(value) ? 'an array' : typeof value;
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

/**
 * JSON.parse for a user's file: bad JSON becomes a one-line UserError naming the file, the line and the
 * column (`hint`, when given, follows it). V8's own messages can quote the input over several lines.
 */
export function parseJson(text: string, file: string, hint?: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const reason = ((e as Error).message ?? String(e))
      .replace(/,\s*"[\s\S]*" is not valid JSON$/, '')
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/\s+/g, ' ');
    const at = jsonErrorPosition(text);
    const where = at < 0 ? '' : `at ${lineColumn(text, at)}: `;
    throw new UserError(`${file}: not valid JSON (${where}${reason})${hint ? `; ${hint}` : ''}`);
  }
}

/** "line L, column C" (both from 1) of a character offset. */
export function lineColumn(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return `line ${line}, column ${offset - start + 1}`;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = '"\\/bfnrtu';

/**
 * Offset of the first JSON syntax error in `s` (the end of the text when it stops early), or -1 when it
 * is valid. Iterative, so deep nesting cannot overflow the stack; linear in the length.
 */
export function jsonErrorPosition(s: string): number {
  const n = s.length;
  let i = 0;
  const open: number[] = []; // 0: inside an array, 1: inside an object
  const ws = () => {
    while (i < n && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  /** Scans a string starting at its quote; false when it is malformed (i at the problem). */
  const str = (): boolean => {
    i++;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        i++;
        if (i >= n || !ESCAPES.includes(s[i])) return false;
        if (s[i] === 'u') {
          for (let k = 1; k <= 4; k++)
            if (!/[0-9a-fA-F]/.test(s[i + k] ?? '')) {
              i += k;
              return false;
            }
          i += 4;
        }
      }
      i++;
    }
    return false;
  };
  /** After `{` or `,` in an object: a key and its colon. */
  const key = (): boolean => {
    ws();
    if (s[i] !== '"' || !str()) return false;
    ws();
    if (s[i] !== ':') return false;
    i++;
    return true;
  };
  for (;;) {
    // a value
    ws();
    const c = s[i];
    if (c === '{' || c === '[') {
      i++;
      ws();
      if (s[i] === (c === '{' ? '}' : ']')) i++;
      else {
        open.push(c === '{' ? 1 : 0);
        if (c === '{' && !key()) return Math.min(i, n);
        continue;
      }
    } else if (c === '"') {
      if (!str()) return Math.min(i, n);
    } else if (c === 't' || c === 'f' || c === 'n') {
      const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
      for (let k = 0; k < word.length; k++, i++) if (s[i] !== word[k]) return Math.min(i, n);
    } else {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(s)) return Math.min(i, n);
      i = NUMBER.lastIndex;
    }
    // after a value: close containers, or a comma and the next value
    for (;;) {
      ws();
      if (open.length === 0) return i < n ? i : -1;
      const inObject = open[open.length - 1] === 1;
      if (s[i] === ',') {
        i++;
        if (inObject && !key()) return Math.min(i, n);
        break;
      }
      if (s[i] !== (inObject ? '}' : ']')) return Math.min(i, n);
      open.pop();
      i++;
    }
  }
}
