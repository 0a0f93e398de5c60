import { getSocProfile, loadSocProfiles } from '../../soc/load.js';
import type { SocProfile } from '../../soc/profile.js';

interface Sourced {
  value: number;
  kind: string;
  source: string;
  note?: string;
}

function isSourced(v: unknown): v is Sourced {
  return !!v && typeof v === 'object' && typeof (v as Sourced).value === 'number' && typeof (v as Sourced).kind === 'string';
}

/** The unit a field's name announces (readMBps → MB/s, layerOverheadMs → ms, …). */
function unitOf(field: string): string {
  if (field === 'ghz') return 'GHz';
  if (/MBps/.test(field)) return 'MB/s';
  if (/GBps/.test(field)) return 'GB/s';
  if (/Gflops/i.test(field)) return 'GFLOP/s';
  if (/Ms$/.test(field)) return 'ms';
  if (/MB$/.test(field)) return 'MB';
  return '';
}

function summary(p: SocProfile) {
  const cluster = p.cpu.clusters.find((c) => c.id === p.defaults.cluster)!;
  return {
    id: p.id,
    name: p.name,
    storage: p.storage.kind,
    storageMBps: p.storage.readMBps.value,
    computeUnit: p.defaults.computeUnit,
    cluster: cluster.id,
    cores: p.defaults.cores,
    core: cluster.core,
    ramMB: p.memory.ramMB.value,
  };
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
}

/** shardlab socs: the profiles in a table, or a JSON array. */
export function listSocs(f: { json?: boolean }): void {
  const rows = loadSocProfiles().map(summary);
  if (f.json) return console.log(JSON.stringify(rows));
  const header = ['id', 'name', 'storage', 'MB/s', 'compute', 'RAM'];
  const body = rows.map((r) => [
    r.id,
    r.name,
    r.storage,
    String(r.storageMBps),
    `${r.computeUnit}, ${r.cores} x ${r.core}`,
    `${+(r.ramMB / 1024).toFixed(1)} GB`,
  ]);
  for (const line of table([header, ...body])) console.log(line);
}

interface Row {
  path: string;
  value: string;
  kind?: string;
  source?: string;
  note?: string;
}

/** Every field of the profile as a row: path, value with its unit, and for numbers their kind, source and note. */
function fieldRows(v: unknown, path: string, out: Row[]): void {
  if (isSourced(v)) {
    const field = path.split('.').pop()!;
    out.push({ path, value: `${v.value} ${unitOf(field)}`.trim(), kind: v.kind, source: v.source, note: v.note });
  } else if (Array.isArray(v)) v.forEach((x, i) => fieldRows(x, `${path}[${i}]`, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) fieldRows(x, path ? `${path}.${k}` : k, out);
  else out.push({ path, value: String(v) });
}

function showProfile(p: SocProfile): void {
  console.log(`${p.id}: ${p.name}`);
  if (p.description) console.log(p.description);
  console.log();
  const rows: Row[] = [];
  const shown = ['id', 'name', 'description', 'sources'];
  fieldRows(Object.fromEntries(Object.entries(p).filter(([k]) => !shown.includes(k))), '', rows);
  // Text fields (memory type, core names) are left out of the alignment so they do not widen the value column.
  const pathWidth = Math.max(...rows.map((r) => r.path.length));
  const valueWidth = Math.max(...rows.filter((r) => r.kind).map((r) => r.value.length));
  const line = (...cells: string[]) => console.log(cells.join('  ').trimEnd());
  line('field'.padEnd(pathWidth), 'value'.padEnd(valueWidth), 'kind      ', 'source');
  for (const r of rows) {
    if (!r.kind) line(r.path.padEnd(pathWidth), r.value);
    else line(r.path.padEnd(pathWidth), r.value.padEnd(valueWidth), r.kind.padEnd(10), r.source!);
    if (r.note) console.log(`    ${r.note}`);
  }
  console.log('\nsources');
  const w = Math.max(...p.sources.map((s) => s.id.length));
  for (const s of p.sources) console.log(`  ${s.id.padEnd(w)}  ${s.citation}`);
}

/** shardlab socs show ID: every number of one profile with its kind and source, or the profile as JSON. */
export function showSoc(id: string, json: boolean | undefined): void {
  const p = getSocProfile(id);
  if (json) return console.log(JSON.stringify(p, null, 2));
  showProfile(p);
}
