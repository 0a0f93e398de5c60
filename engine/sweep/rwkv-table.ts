/** An RWKV sweep's rows as a terminal table and as CSV (flat columns; the real run's as run*). */
import type { RwkvSweepRow } from './rwkv-types.js';
import { textTable } from './table.js';

export const RWKV_CSV_COLUMNS = [
  'soc',
  'setting',
  'pick',
  'optimum',
  'optimumPerplexity',
  'memoryMiB',
  'tokenMsTarget',
  'fits',
  'tokensPerSecond',
  'tokenMs',
  'firstTokenMs',
  'stallMsPerToken',
  'ioBytesPerToken',
  'persistentBytes',
  'peakBytes',
  'perplexity',
  'lastWordAccuracy',
  'qualityTokens',
  'runTokens',
  'runTokensPerSecond',
  'runTokenMsP50',
  'runFirstTokenMs',
  'runIoBytesPerToken',
  'runPeakBytes',
  'runText',
  'settingHash',
] as const;

type Column = (typeof RWKV_CSV_COLUMNS)[number];

function value(r: RwkvSweepRow, c: Column): unknown {
  switch (c) {
    case 'runTokens':
      return r.run?.tokens;
    case 'runTokensPerSecond':
      return r.run?.tokensPerSecond;
    case 'runTokenMsP50':
      return r.run?.tokenMsP50;
    case 'runFirstTokenMs':
      return r.run?.firstTokenMs;
    case 'runIoBytesPerToken':
      return r.run?.ioBytesPerToken;
    case 'runPeakBytes':
      return r.run?.peakBytes;
    case 'runText':
      return r.run?.text;
    default:
      return r[c];
  }
}

export function rwkvSweepCsv(rows: RwkvSweepRow[]): string {
  const cell = (v: unknown) =>
    v === undefined ? '' : typeof v === 'string' && /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v);
  return [RWKV_CSV_COLUMNS.join(','), ...rows.map((r) => RWKV_CSV_COLUMNS.map((c) => cell(value(r, c))).join(','))].join('\n') + '\n';
}

const mib = (b: number) => (b / 2 ** 20).toFixed(2);

export function rwkvSweepTable(rows: RwkvSweepRow[]): string {
  const head = [
    'soc',
    'setting',
    'memory MiB',
    'token ms target',
    'fits',
    'tokens/s',
    'ms/token',
    'first ms',
    'peak MiB',
    'perplexity',
    'last word',
    'run tokens/s',
    'pick',
  ];
  const body = rows.map((r) => {
    const none = r.setting === 'planner' && !r.pick;
    return [
      r.soc,
      r.setting,
      String(r.memoryMiB),
      r.tokenMsTarget ? String(r.tokenMsTarget) : '-',
      r.fits ? 'yes' : 'no',
      none ? '-' : r.tokensPerSecond.toFixed(1),
      none ? '-' : r.tokenMs.toFixed(3),
      none ? '-' : r.firstTokenMs.toFixed(1),
      none ? '-' : mib(r.peakBytes),
      r.perplexity === undefined ? '-' : r.perplexity.toFixed(2),
      r.lastWordAccuracy === undefined ? '-' : `${(100 * r.lastWordAccuracy).toFixed(1)} %`,
      r.run ? r.run.tokensPerSecond.toFixed(1) : '-',
      r.pick ?? (none ? `none: ${r.why ?? ''}` : ''),
    ];
  });
  return textTable(head, body, 2);
}
