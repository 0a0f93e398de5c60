import { existsSync } from 'node:fs';
import { modelChecksum } from '../../../core/checksum.js';
import { shardCacheDir } from '../../../core/paths.js';
import { progressBar } from '../../../core/progress.js';
import { checkModelDir } from '../model.js';
import { isShardStore, verifyStoreFiles } from '../shard-store.js';

export interface VerifyFlags {
  model: string;
  json?: boolean;
}

/**
 * shardlab verify: every file of a shard store against its manifest (presence, size, sha256), or for a
 * checkpoint its checksum and the cached store made from it. False when something is damaged.
 */
export async function runVerify(f: VerifyFlags): Promise<boolean> {
  let store = f.model;
  let checksum: string | undefined;
  if (!isShardStore(f.model)) {
    checkModelDir(f.model);
    checksum = modelChecksum(f.model);
    store = shardCacheDir(checksum);
    if (!existsSync(store)) {
      const out = { model: f.model, checksum, store: null, files: 0, problems: [] as string[] };
      if (f.json) console.log(JSON.stringify(out));
      else console.log(`${f.model}: checkpoint ${checksum}; no cached shard store yet (made on first use)`);
      return true;
    }
  }
  const bar = progressBar('verify', !f.json);
  const r = verifyStoreFiles(store, (d, t) => bar.update(d, t));
  bar.stop();
  const { files, problems } = r;
  if (f.json) console.log(JSON.stringify({ model: f.model, checksum: checksum ?? r.checksum ?? null, store, files, problems }));
  else {
    console.log(`${store}: shard store of ${r.checksum ?? '?'}, ${files} files checked (size and sha256 against the manifest)`);
    console.log(problems.length === 0 ? 'intact' : problems.join('\n'));
  }
  return problems.length === 0;
}
