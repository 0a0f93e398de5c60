/**
 * Your own model in the workbench (importModel): a Hugging Face checkpoint directory is opened by the engine,
 * kept as an imported model in the data directory (across a restart of the service), listed and planned on;
 * refusals are the engine's one-line messages; a removed or changed directory is reported, not a crash.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT, tempDir } from './helpers.js';

const HOME = tempDir('shardlab-workbench-import-');
process.env.SHARDLAB_HOME = HOME;

const { WorkbenchService } = await import('../engine/workbench/service.js');
const { IMPORTS_FILE } = await import('../engine/workbench/imports.js');

const LAYOUTS = join(ROOT, 'fixtures/models/hf-layouts');
const Q = { soc: 'odroid-n2plus', targetMs: 50, bufferKb: 64 };

describe('importing a model into the workbench', () => {
  const s = new WorkbenchService();
  after(() => s.close());

  test('position-ids: what was detected; listed; planned on without a task (needs-data), and on a data file', async () => {
    const v = await s.importModel({ dir: join(LAYOUTS, 'position-ids') });
    assert.match(v.id, /^imported-position-ids-[0-9a-f]{8}$/);
    assert.equal(v.id.slice(-8), v.checksum.slice(0, 8));
    assert.deepEqual(
      { family: v.family, architecture: v.architecture, layers: v.layers, heads: v.heads, hidden: v.hidden, ffn: v.ffn },
      { family: 'bert', architecture: 'BERT', layers: 2, heads: 4, hidden: 32, ffn: 64 },
    );
    assert.deepEqual(v.labels, ['negative', 'positive', 'spam']);
    assert.deepEqual(v.tokenizer, { kind: 'tokenizer.json', maxLength: 40 });
    assert.deepEqual(v.dtype, ['F32']);
    assert.deepEqual(v.ignored, ['bert.embeddings.position_ids (I64 [1, 40])']);
    assert.equal(v.task, null);
    const entry = (await s.listModels()).find((m) => m.id === v.id);
    assert.ok(entry, 'listed');
    assert.equal(entry.family, 'bert');
    assert.equal(entry.task, '');
    assert.equal(entry.imported?.problem, undefined);
    assert.ok(entry.bits.includes(32));

    const p = await s.plan({ ...Q, model: v.id, planner: 'sti' });
    assert.equal(p.importance, 'needs-data');
    assert.equal(p.planner, 'sti-uniform');
    assert.ok(p.makespanMs > 0 && p.layers >= 1);
    assert.equal(p.accuracy, null);
    assert.equal(await s.importance({ model: v.id }), null);
    assert.ok((await s.planAll({ ...Q, model: v.id })).length > 5);
    assert.ok((await s.targetRange({ soc: Q.soc, model: v.id, bufferKb: Q.bufferKb })).maxMs > 0);
    // Accuracy without a data file says what is missing.
    await assert.rejects(
      s.runJob(
        { kind: 'accuracy', query: { ...Q, model: v.id, planner: 'sti-uniform' } },
        { jobId: 'job-1', emit: () => {}, signal: new AbortController().signal },
      ),
      /names no task of its own .*needs a labelled data file of yours/,
    );
    await assert.rejects(
      s.runJob(
        { kind: 'sweep', sweep: { model: v.id, socs: [Q.soc], targetsMs: [50], buffersKb: [64], planners: ['sti-uniform'] } },
        { jobId: 'job-3', emit: () => {}, signal: new AbortController().signal },
      ),
      /names no task of its own .*needs a labelled data file of yours: --data FILE/,
    );
    // With a data file of its labels: importance is asked for (missing), and accuracy is measured on it.
    const data = join(tempDir(), 'mine.csv');
    writeFileSync(data, 'text,label,split\ngood film,positive,dev\nbad film,negative,dev\nbuy now,spam,dev\nnice day,positive,dev\n');
    const check = await s.checkData({ path: data, model: v.id });
    assert.equal(check.ok, true, JSON.stringify(check.problems));
    assert.equal((await s.plan({ ...Q, model: v.id, planner: 'sti', data })).importance, 'missing');
    const acc = (await s.runJob(
      { kind: 'accuracy', query: { ...Q, model: v.id, planner: 'sti-uniform', data } },
      { jobId: 'job-2', emit: () => {}, signal: new AbortController().signal },
    )) as { accuracy: number; examples: number };
    assert.equal(acc.examples, 4);
    assert.ok(acc.accuracy >= 0 && acc.accuracy <= 1);
  });

  test('DistilBERT, RoBERTa and a vocab.txt-only checkpoint are told apart', async () => {
    const d = await s.importModel({ dir: join(LAYOUTS, 'distilbert') });
    assert.equal(d.architecture, 'DistilBERT');
    const r = await s.importModel({ dir: join(LAYOUTS, 'roberta') });
    assert.equal(r.architecture, 'RoBERTa');
    const t = await s.importModel({ dir: join(LAYOUTS, 'vocab-txt') });
    assert.equal(t.tokenizer.kind, 'vocab.txt');
    const b = await s.importModel({ dir: join(LAYOUTS, 'bf16') });
    assert.deepEqual(b.dtype, ['BF16']);
  });

  test('refused layouts and bogus paths: one line that says what is wrong; nothing is registered', async () => {
    const before = readFileSync(join(HOME, IMPORTS_FILE), 'utf8');
    const oneLine = (re: RegExp) => (e: Error) => re.test(e.message) && !e.message.includes('\n');
    await assert.rejects(
      s.importModel({ dir: join(LAYOUTS, 'refused/relative-key') }),
      oneLine(/config\.json: position_embedding_type "relative_key" is not supported; shardlab runs absolute position embeddings only/),
    );
    await assert.rejects(s.importModel({ dir: join(LAYOUTS, 'refused/pytorch-bin') }), oneLine(/pytorch_model\.bin/));
    await assert.rejects(
      s.importModel({ dir: '/no/such/model' }),
      oneLine(/^\/no\/such\/model: no such directory; import takes a model directory/),
    );
    await assert.rejects(
      s.importModel({ dir: join(LAYOUTS, 'fp32/config.json') }),
      oneLine(/config\.json: not a directory; import takes a model directory/),
    );
    await assert.rejects(s.importModel({ dir: join(ROOT, 'fixtures') }), oneLine(/not a model directory \(no config\.json\)/));
    await assert.rejects(s.plan({ ...Q, model: 'imported-nothing-00000000', planner: 'sti' }), /unknown model "imported-nothing-00000000"/);
    assert.equal(readFileSync(join(HOME, IMPORTS_FILE), 'utf8'), before);
  });

  test('a restart keeps the imported models; a removed or changed directory is reported, not a crash', async () => {
    const copy = join(tempDir(), 'my-bert');
    cpSync(join(LAYOUTS, 'fp32'), copy, { recursive: true });
    const gone = await s.importModel({ dir: copy });
    const copy2 = join(tempDir(), 'my-other-bert');
    cpSync(join(LAYOUTS, 'fp32'), copy2, { recursive: true });
    const changed = await s.importModel({ dir: copy2 });
    assert.notEqual(gone.id, changed.id, 'named by their directories');
    await s.close();

    rmSync(copy, { recursive: true });
    const config = JSON.parse(readFileSync(join(copy2, 'config.json'), 'utf8')) as { id2label: Record<string, string> };
    config.id2label['0'] = 'renamed';
    writeFileSync(join(copy2, 'config.json'), JSON.stringify(config));

    const again = new WorkbenchService();
    try {
      const models = await again.listModels();
      const pos = models.find((m) => m.id.startsWith('imported-position-ids-'));
      assert.ok(pos && !pos.imported?.problem, 'still listed after a restart, usable');
      assert.ok((await again.plan({ ...Q, model: pos.id, planner: 'stdpl-32' })).makespanMs > 0);
      const g = models.find((m) => m.id === gone.id);
      assert.match(
        g?.imported?.problem ?? '',
        /my-bert is gone \(removed or moved since it was imported as imported-my-bert-[0-9a-f]{8}\); import it again/,
      );
      const c = models.find((m) => m.id === changed.id);
      assert.match(c?.imported?.problem ?? '', /my-other-bert changed since it was imported/);
      await assert.rejects(again.plan({ ...Q, model: gone.id, planner: 'sti' }), /is gone \(removed or moved/);
      await assert.rejects(again.plan({ ...Q, model: changed.id, planner: 'sti' }), /changed since it was imported/);
      // Imported again, the changed directory is a new model (new checksum, new id).
      const fresh = await again.importModel({ dir: copy2 });
      assert.notEqual(fresh.id, changed.id);
      assert.deepEqual(fresh.labels.slice(0, 1), ['renamed']);
    } finally {
      await again.close();
    }
  });

  test('a damaged imported-models.json keeps the bundled models listed, is named by importModel, and is left as it was', async () => {
    const file = join(HOME, IMPORTS_FILE);
    const kept = readFileSync(file, 'utf8');
    writeFileSync(file, '{"models": [');
    const damaged = new WorkbenchService();
    try {
      const ids = (await damaged.listModels()).map((m) => m.id);
      assert.ok(ids.includes('bert-spam'), `listed: ${ids.join(', ')}`);
      assert.ok(!ids.some((id) => id.startsWith('imported-')));
      await assert.rejects(damaged.importModel({ dir: join(LAYOUTS, 'fp16') }), (e: Error) => {
        assert.match(e.message, /imported-models\.json: .*fix it, or move it away/);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
      assert.equal(readFileSync(file, 'utf8'), '{"models": [');
    } finally {
      await damaged.close();
      writeFileSync(file, kept);
    }
  });
});
