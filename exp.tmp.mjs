import ort from 'onnxruntime-node';
import { BertModel } from './dist/engine/model/bert/model.js';
import { GraphBuilder } from './dist/engine/model/onnx/graph.js';
import { makeBatch, lengthBuckets } from './dist/engine/model/batch.js';
import { loadTask } from './dist/engine/model/datasets.js';
import { sliceLayer, LAYER_PARTS } from './dist/engine/model/bert/weights.js';
import { monolithicGraph } from './dist/engine/model/bert/graphs.js';
const T = Number(process.argv[2] ?? 1);
const model = await BertModel.load('fixtures/models/bert-spam', { threads: T });
const seqs = loadTask('spam','dev').examples.slice(0,64).map(e=>model.tokenizer.encode(e.text));
const b = makeBatch(seqs.slice(0,32));
const { hidden, maskBias } = await model.embedBatch(b);
const w = sliceLayer(model.config, model.weights.layers[0], 8);
async function time(label, f, n=10){ await f(); const t=performance.now(); for(let r=0;r<n;r++) await f(); console.log(label, ((performance.now()-t)/n).toFixed(2),'ms'); }
await time('layer via inputs', () => model.runLayer(hidden, maskBias, w));
// a one-layer monolithic graph with 1 layer: embed+1 layer+head with initializers, vs engine 1 layer
const mono1 = await ort.InferenceSession.create(monolithicGraph(model.config, model.weights, 1, 8), { intraOpNumThreads: T, graphOptimizationLevel: 'all' });
const mono4 = await ort.InferenceSession.create(monolithicGraph(model.config, model.weights, 4, 8), { intraOpNumThreads: T, graphOptimizationLevel: 'all' });
const dims=[b.size,b.length]; const feeds={input_ids:new ort.Tensor('int64',b.ids,dims), attention_mask:new ort.Tensor('float32',b.mask,dims)};
await time('mono 1 layer (+embed+head)', () => mono1.run(feeds));
await time('mono 4 layers (+embed+head)', () => mono4.run(feeds));
await time('engine 4 layers', () => model.logits(b));
await time('embed', () => model.embedBatch(b));
await time('head', () => model.runHead(hidden));
