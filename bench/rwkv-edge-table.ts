/**
 * The README's RWKV-edge table: each technique alone and the combinations on the fixture, each row one
 * `shardlab lm-eval` (answered from the experiment store when it has measured the setting already) and one
 * `shardlab memory` of the same flags, through the CLI as a user runs them.
 *
 *   npm run bench:rwkv-edge -- [--split test] [--limit 300 | --limit all] [--db PATH]
 *
 * A fresh store measures every row: about 2–5 minutes each on this 2-core machine at --limit 300.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { split: { type: 'string', default: 'test' }, limit: { type: 'string', default: '300' }, db: { type: 'string' } },
});

const ROWS: [string, string][] = [
  ['dense', '--techniques none'],
  ['INT8', '--int8'],
  ['low-rank x058, trained', '--lowrank 8 --lowrank-kind linear'],
  ['low-rank x059, trained', '--lowrank 8 --lowrank-kind relu2'],
  ['sparse FFN', '--techniques sparse-ffn'],
  ['embedding cache', '--techniques emb-cache'],
  ['hierarchical head', '--techniques cluster-head'],
  ['all (x059, the deployed kind)', '--techniques all'],
  ['all + INT8 (x059)', '--techniques all,int8'],
  ['all with x058', '--techniques all --lowrank-kind linear'],
  ['all five with x058', '--techniques all,int8 --lowrank-kind linear'],
  ['all with x058, head mass 0.98', '--techniques all --lowrank-kind linear --head-clusters 200:0.98'],
  ['all five with x058, head mass 0.98', '--techniques all,int8 --lowrank-kind linear --head-clusters 200:0.98'],
];

interface LmOut {
  split: string;
  tokens: number;
  lastWordItems: number;
  perplexity: number;
  nextTokenAccuracy: number;
  lastWordAccuracy: number;
  ffn?: { predictedSparsity: number; recall: number }[];
  head?: { clustersPerToken: number; rowsTouched: number };
  embCache?: { hitRate: number };
  sources?: { lowrank?: string };
}

const db = values.db ? ['--db', values.db] : [];
const cli = <T>(args: string[]): T =>
  JSON.parse(execFileSync(process.execPath, ['bin/shardlab.js', ...args, ...db, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 })) as T;
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

const dense = cli<{ denseBytes: number }>(['memory', '--model', 'rwkv5-en', '--techniques', 'none']);
console.log('| setting | flags | resident MiB | × less than dense fp16 | perplexity | next token | last word | technique statistics |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [name, flags] of ROWS) {
  const f = flags.split(' ');
  const limit = values.limit === 'all' ? [] : ['--limit', values.limit!];
  const q = cli<LmOut>(['lm-eval', '--model', 'rwkv5-en', '--split', values.split!, ...limit, ...f]);
  const m = cli<{ residentBytes: number }>(['memory', '--model', 'rwkv5-en', ...f]);
  const stats: string[] = [];
  if (q.ffn) {
    const mean = (k: 'predictedSparsity' | 'recall') => q.ffn!.reduce((a, l) => a + l[k], 0) / q.ffn!.length;
    stats.push(`FFN: predicted sparsity ${(100 * mean('predictedSparsity')).toFixed(1)} %, recall ${(100 * mean('recall')).toFixed(1)} %`);
  }
  if (q.head) stats.push(`head: ${q.head.clustersPerToken.toFixed(1)} clusters, ${(100 * q.head.rowsTouched).toFixed(1)} % of rows`);
  if (q.embCache) stats.push(`cache hit ${(100 * q.embCache.hitRate).toFixed(1)} %`);
  if (q.sources?.lowrank)
    stats.push(q.sources.lowrank.startsWith('continually') ? 'low-rank: continually trained' : 'low-rank: SVD init, untrained');
  const mib = (m.residentBytes / 2 ** 20).toFixed(2);
  const ratio = (dense.denseBytes / m.residentBytes).toFixed(2);
  console.log(
    `| ${name} | \`${flags}\` | ${mib} | ${ratio}× | ${q.perplexity.toFixed(2)} | ${pct(q.nextTokenAccuracy)} | ${pct(q.lastWordAccuracy)} | ${stats.join('; ')} |`,
  );
  console.error(`${name}: ${q.split}, ${q.tokens} tokens, ${q.lastWordItems} last-word items`);
}
