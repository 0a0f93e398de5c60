/**
 * Payload validation shared by both hosts (the Electron IPC handler and the browser bridge): a method
 * name and a payload in, the parsed payload out, or a BadRequest with one line that says what was wrong.
 */
import type { z } from 'zod';
import { METHODS, type MethodName } from './api.js';

export class BadRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequest';
  }
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '') || 'payload';
}

function describe(issue: z.core.$ZodIssue): string {
  const where = pathOf(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return `${where}: unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_type':
      return `${where}: expected ${issue.expected}`;
    case 'too_small':
      return `${where}: must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}${issue.origin === 'array' ? ' item(s)' : issue.origin === 'string' ? ' character(s)' : ''}`;
    case 'too_big':
      return `${where}: must be at most ${issue.maximum}${issue.origin === 'array' ? ' item(s)' : ''}`;
    case 'invalid_value':
      return `${where}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return `${where}: ${issue.message}`;
    default:
      return `${where}: ${issue.message.replace(/\s+/g, ' ')}`;
  }
}

export function isMethod(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(METHODS, name);
}

/** Validates a call; throws BadRequest naming the method, the field and the problem. */
export function validateCall(method: unknown, payload: unknown): { method: MethodName; payload: unknown } {
  if (!isMethod(method))
    throw new BadRequest(`unknown method ${JSON.stringify(method)}; the workbench has ${Object.keys(METHODS).join(', ')}`);
  const parsed = METHODS[method].safeParse(payload === undefined ? {} : payload);
  if (!parsed.success) {
    const [first, ...rest] = parsed.error.issues;
    const more = rest.length ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
    throw new BadRequest(`${method}: ${describe(first)}${more}`);
  }
  return { method, payload: parsed.data };
}
