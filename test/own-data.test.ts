/** Your own data (--data FILE): reading CSV and JSONL, sentence pairs with token types, splits, label checks, eval. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UserError } from '../engine/core/errors.js';
import { stratifiedSample } from '../engine/eval/sample.js';
import { evaluate } from '../engine/families/bert/accuracy.js';
import { makeBatch } from '../engine/families/bert/batch.js';
import { taskOrData } from '../engine/families/bert/cli/data.js';
import {
  DEV_SHARE,
  hashSplit,
  loadDataFile,
  readDataFile,
  splitAssignment,
  splitRows,
  splitSizes,
} from '../engine/families/bert/data-file.js';
import { loadTask, SPAM_LABELS } from '../engine/families/bert/datasets.js';
import { BertModel } from '../engine/families/bert/model.js';
import { ExperimentStore } from '../engine/store/db.js';
import { WorkbenchService } from '../engine/workbench/service.js';
import { ROOT, shardlab, SPAM_MODEL, tempDir, TEST_HOME } from './helpers.js';
import { shardlabInOneProcess } from './refusals.js';

const dir = tempDir();
const csvField = (s: string) => `"${s.replaceAll('"', '""')}"`;

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The 40 spam dev rows `--task spam --limit 40` measures on. */
const spam40 = stratifiedSample(loadTask('spam', 'dev').examples, 40);
const spamCsv = write(
  'spam40.csv',
  'text,label,split\n' + spam40.map((e) => `${csvField(e.text)},${SPAM_LABELS[e.label]},dev`).join('\n') + '\n',
);
const spamJsonl = write(
  'spam40.jsonl',
  spam40.map((e) => JSON.stringify({ text: e.text, label: e.label, split: 'validation' })).join('\n'),
);

const spamLabels = { labels: SPAM_LABELS, typeVocab: 2 };

describe('reading a data file', () => {
  test('CSV and JSONL give the same rows, labels as names or ids', () => {
    const csv = loadDataFile(spamCsv, spamLabels);
    const jsonl = loadDataFile(spamJsonl, spamLabels);
    assert.equal(csv.format, 'csv');
    assert.equal(jsonl.format, 'jsonl');
    assert.equal(csv.kind, 'single');
    assert.deepEqual(csv.columns, ['text', 'label', 'split']);
    assert.equal(csv.rows.length, 40);
    assert.deepEqual(
      csv.rows.map((r) => [r.text, r.label, r.split]),
      jsonl.rows.map((r) => [r.text, r.label, r.split]),
    );
    assert.deepEqual(
      csv.rows.map((r) => [r.text, r.label]),
      spam40.map((e) => [e.text, e.label]),
    );
    assert.deepEqual(splitSizes(csv), { train: 0, dev: 40, test: 0 });
    assert.match(csv.task, /^data:[0-9a-f]{16}$/);
    assert.notEqual(csv.task, jsonl.task);
  });

  test('without a split column, rows are cut by a hash of their text: the same on every read and in any order', () => {
    const rows = Array.from({ length: 200 }, (_, i) => ({ text: `row number ${i} says ${i * 7919}`, label: i % 2 }));
    const a = readDataFile(write('h1.jsonl', rows.map((r) => JSON.stringify(r)).join('\n')));
    const b = readDataFile(write('h2.jsonl', rows.map((r) => JSON.stringify(r)).join('\n')));
    const reversed = readDataFile(
      write(
        'h3.jsonl',
        [...rows]
          .reverse()
          .map((r) => JSON.stringify(r))
          .join('\n'),
      ),
    );
    assert.equal(a.splitFrom, 'hash');
    assert.equal(splitAssignment(a), splitAssignment(b));
    assert.equal(a.hash, b.hash);
    assert.notEqual(a.hash, reversed.hash);
    const byText = new Map(a.rows.map((r) => [r.text, r.split]));
    for (const r of reversed.rows) assert.equal(r.split, byText.get(r.text));
    for (const r of a.rows) assert.equal(r.split, hashSplit(r.text));
    const dev = splitRows(a, 'dev').length;
    assert.ok(Math.abs(dev / 200 - DEV_SHARE) < 0.12, `${dev} of 200 rows in dev`);
    assert.equal(splitRows(a, 'test').length, 200 - dev);
  });

  test('sentence pairs (GLUE columns) are read as pairs', () => {
    const pairs = readDataFile(write('pairs.csv', 'question1,question2,label\nis it spam?,is it ham?,1\n"a, b",c,0\n'));
    assert.equal(pairs.kind, 'pair');
    assert.deepEqual(pairs.textColumns, ['question1', 'question2']);
    assert.deepEqual(
      pairs.rows.map((r) => [r.text, r.textB]),
      [
        ['is it spam?', 'is it ham?'],
        ['a, b', 'c'],
      ],
    );
    const noTypes = { labels: ['0', '1'], typeVocab: 1 };
    assert.throws(() => loadDataFile(pairs.file, noTypes), /type_vocab_size 1/);
  });

  test('an empty file, a missing column or a bad line is one line naming the file and the line', () => {
    const cases: [string, string, RegExp][] = [
      ['empty.csv', '', /empty\.csv: no rows; a data file is JSONL/],
      ['blank.jsonl', '\n\n', /blank\.jsonl: no rows/],
      ['nolabel.csv', 'text\nhello\n', /nolabel\.csv: no "label" column \(it has "text"\)/],
      ['bad.jsonl', '{"text":"a","label":0}\n{"text": oops}\n', /bad\.jsonl: line 2: not JSON/],
      ['array.jsonl', '[1,2]\n', /array\.jsonl: line 1: not a JSON object/],
      ['quote.csv', 'text,label\n"open,0\n', /quote\.csv: line 2: not valid CSV/],
      ['nolabelrow.jsonl', '{"text":"a","label":0}\n{"text":"b"}\n', /nolabelrow\.jsonl: line 2: "label" is missing/],
      ['split.csv', 'text,label,split\na,0,dev\nb,1,holdout\n', /split\.csv: line 3: split "holdout" is not dev, validation or test/],
    ];
    for (const [name, text, re] of cases)
      assert.throws(
        () => readDataFile(write(name, text)),
        (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'),
        name,
      );
  });

  test('labels are checked against the model: a mismatch names both sets', () => {
    const file = write('labels.csv', 'text,label\na,ham\nb,junk\nc,1\n');
    assert.throws(
      () => loadDataFile(file, spamLabels),
      (e: unknown) => e instanceof UserError && /\{ham, junk, 1\}/.test(e.message) && /\{0: ham, 1: spam\}/.test(e.message),
    );
  });

  test('a data file is recorded in the experiment store by its content hash, with its split assignment', () => {
    const db = ExperimentStore.open(join(tempDir(), 'x.db'));
    const data = taskOrData({ labels: SPAM_LABELS, typeVocab: 2 } as never, { data: spamCsv }, 'm', db);
    assert.equal(typeof data, 'object');
    const stored = db.getDataFile((data as { hash: string }).hash);
    assert.equal(stored?.rows, 40);
    assert.equal(stored?.assignment, 'd'.repeat(40));
    assert.deepEqual([...(stored?.labels ?? [])].sort(), ['ham', 'spam']);
    assert.equal(stored?.path, spamCsv);
    db.close();
  });
});

describe('sentence pairs on the spam model', () => {
  let model: BertModel;
  before(async () => (model = await BertModel.load(SPAM_MODEL, { threads: 1 })));
  after(() => model.release());

  test('a pair is [CLS] a [SEP] b [SEP] with token types 0 then 1', () => {
    const single = model.tokenizer.encode('free money now');
    const pair = model.tokenizer.encodePair('free money now', 'meeting at noon');
    const b = model.tokenizer.encode('meeting at noon');
    assert.deepEqual([...pair.ids], [...single, ...b.subarray(1)]);
    assert.deepEqual([...pair.types], [...Array<number>(single.length).fill(0), ...Array<number>(b.length - 1).fill(1)]);
    const long = model.tokenizer.encodePair('word '.repeat(300), 'other '.repeat(20));
    assert.equal(long.ids.length, model.config.maxPositions);
    // The longer text loses tokens; the short one is kept whole.
    assert.equal(long.types.filter((t) => t === 1).length, model.tokenizer.encode('other '.repeat(20)).length - 1);
  });

  test('token types reach the embeddings: type 0 is the graph without them, type 1 changes only segment b', async () => {
    const pair = model.tokenizer.encodePair('free money now', 'meeting at noon');
    const plain = await model.embedBatch(makeBatch([pair.ids]));
    const zeros = await model.embedBatch(makeBatch([pair.ids], [new Uint8Array(pair.ids.length)]));
    const typed = await model.embedBatch(makeBatch([pair.ids], [pair.types]));
    assert.deepEqual(zeros.hidden.data, plain.hidden.data);
    const H = model.config.hidden;
    const [p, t] = [plain.hidden.data as Float32Array, typed.hidden.data as Float32Array];
    pair.types.forEach((type, i) => {
      const same = p.subarray(i * H, (i + 1) * H).every((v, k) => v === t[i * H + k]);
      assert.equal(same, type === 0, `token ${i} (type ${type})`);
    });
    const logits = await model.logits(makeBatch([pair.ids], [pair.types]));
    assert.equal(logits.length, 2);
    assert.notDeepEqual([...logits], [...(await model.logits(makeBatch([pair.ids])))]);
  });

  test("pairs' logits match PyTorch's with each token's own token type (fixtures/make/pair-reference.py)", async () => {
    const ref = JSON.parse(readFileSync(join(ROOT, 'fixtures/data/bert-spam-pairs-reference.json'), 'utf8')) as {
      a: string;
      b: string;
      ids: number[];
      types: number[];
      pytorch: number[];
      pytorchType0: number[];
    }[];
    const diff = (x: ArrayLike<number>, y: number[]) => Math.max(...y.map((v, i) => Math.abs(v - x[i])));
    for (const r of ref) {
      const pair = model.tokenizer.encodePair(r.a, r.b);
      assert.deepEqual([...pair.ids], r.ids);
      assert.deepEqual([...pair.types], r.types);
      const logits = await model.logits(makeBatch([pair.ids], [pair.types]));
      assert.ok(diff(logits, r.pytorch) < 1e-5, `${diff(logits, r.pytorch)}`);
      // The check is sensitive to the types: with every token of type 0 the logits are more than 1e-3 away.
      assert.ok(diff(logits, r.pytorchType0) > 1e-3);
    }
  });

  test('a file of pairs evaluates', async () => {
    const file = write(
      'pairs.jsonl',
      spam40
        .slice(0, 6)
        .map((e) => JSON.stringify({ text_a: e.text.slice(0, 200), text_b: e.text.slice(200, 400), label: SPAM_LABELS[e.label] }))
        .join('\n'),
    );
    const data = loadDataFile(file, model.config);
    const r = await evaluate(model, data.rows, { layers: model.config.layers, slices: model.config.slices });
    assert.equal(r.examples, 6);
  });
});

describe('shardlab eval --data', () => {
  test('reports the same accuracy and interval as --task spam on the same rows', () => {
    // Both by the CLI's main in one process (refusals.ts); the other tests here run eval through bin/shardlab.js.
    const [own, task] = shardlabInOneProcess([
      ['eval', '--model', SPAM_MODEL, '--data', spamCsv, '--json'],
      ['eval', '--model', SPAM_MODEL, '--task', 'spam', '--limit', '40', '--json'],
    ]).map((r) => {
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    });
    assert.equal(own.examples, 40);
    assert.equal(own.accuracy, task.accuracy);
    assert.deepEqual(own.accuracyInterval, task.accuracyInterval);
    assert.match(own.task as string, /^data:[0-9a-f]{16}$/);
  });

  test('sweep --data measures every configuration on the file and stores the sweep under its task key; not with --queue', () => {
    const db = join(tempDir(), 'sweep.db');
    const args = ['sweep', '--model', SPAM_MODEL, '--socs', 'odroid-n2plus', '--targets-ms', '120', '--planners', 'sti-uniform'];
    // The sweep and the listing by the CLI's main in one process (refusals.ts); the refusal below through bin/shardlab.js.
    const [swept, list] = shardlabInOneProcess([
      [...args, '--data', spamCsv, '--db', db, '--json'],
      ['sweeps', '--db', db, '--json'],
    ]).map((r) => {
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as unknown;
    });
    const s = swept as { rows: { accuracy: number; examples: number }[]; spec: { data: string } };
    assert.equal(s.spec.data, spamCsv);
    assert.deepEqual(
      s.rows.map((r) => [r.accuracy, r.examples]),
      [[0.925, 40]],
    );
    const listed = list as { task: string }[];
    assert.match(listed[0].task, /^data:[0-9a-f]{16}$/);
    const store = ExperimentStore.open(db);
    assert.equal(store.getDataFile(readDataFile(spamCsv).hash)?.assignment, 'd'.repeat(40));
    store.close();
    const queued = shardlab(...args, '--data', spamCsv, '--queue', 'redis://127.0.0.1:1', '--db', db);
    assert.equal(queued.status, 2);
    assert.match(queued.stderr, /--data: queued sweeps/);
  });

  test('a label mismatch exits 2 with both label sets in one line', () => {
    const file = write('three.csv', 'text,label\nhello,positive\nbye,negative\nso so,neutral\n');
    const r = shardlab('eval', '--model', SPAM_MODEL, '--data', file, '--json');
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /\{positive, negative, neutral\}/);
    assert.match(r.stderr, /\{0: ham, 1: spam\}/);
  });

  test('a checkpoint without a task of its own asks for --data (or a bundled task) in one line', () => {
    const r = shardlab('eval', '--model', join(ROOT, 'fixtures/models/hf-layouts/roberta'));
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /config\.json names no task; pass --data FILE .* or --task spam\|sotu-era/);
  });
});

describe('the workbench on your own data', () => {
  test('the What-if plans with the model and scores its plan on the data file, sweeps too; the task is untouched', async () => {
    process.env.SHARDLAB_HOME = TEST_HOME;
    const s = new WorkbenchService('test');
    try {
      const q = { soc: 'odroid-n2plus', model: 'bert-spam', planner: 'sti-uniform', targetMs: 120, bufferKb: 1536, data: spamCsv };
      const ctx = { jobId: 'job-1', emit: () => {}, signal: new AbortController().signal };
      const scored = (await s.runJob({ kind: 'accuracy', query: q }, ctx)) as { accuracy: number; examples: number };
      assert.deepEqual([scored.accuracy, scored.examples], [0.925, 40]);
      const v = await s.plan(q);
      assert.deepEqual([v.accuracy?.accuracy, v.accuracy?.examples], [0.925, 40]);
      const task = { ...q, data: undefined };
      assert.notEqual((await s.plan(task)).accuracy?.examples, 40);
      const sweep = {
        model: 'bert-spam',
        socs: ['odroid-n2plus'],
        targetsMs: [120],
        buffersKb: [1536],
        planners: ['sti-uniform'],
        data: spamCsv,
      };
      const stored = (await s.runJob({ kind: 'sweep', sweep }, ctx)) as { id: number };
      const view = await s.getSweep({ id: stored.id });
      assert.match(view.task, /^data:[0-9a-f]{16}$/);
      assert.deepEqual(
        view.rows.map((r) => r.accuracy),
        [0.925],
      );
      const check = await s.checkData({ path: spamCsv, model: 'bert-spam' });
      assert.equal(check.ok, true);
    } finally {
      await s.close();
    }
  });
});
