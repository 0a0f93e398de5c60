/** What a BERT-family checkpoint directory holds, as the workbench's import shows it (read from its files, nothing computed). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readCheckpointHeaders } from '../../core/checkpoint-files.js';
import { isFloatDtype } from '../../core/safetensors.js';
import { readBertConfig } from './config.js';
import { TextEncoder } from './tokenizer.js';
import type { CheckpointFacts } from '../family.js';

export function describeCheckpoint(dir: string): CheckpointFacts {
  const c = readBertConfig(dir);
  const tensors = readCheckpointHeaders(dir).tensors;
  const dtype = [...new Set(tensors.filter((t) => isFloatDtype(t.dtype)).map((t) => t.dtype))].sort();
  const ignored = tensors.filter((t) => !isFloatDtype(t.dtype)).map((t) => `${t.name} (${t.dtype} [${t.shape.join(', ')}])`);
  return {
    architecture: c.variant === 'distilbert' ? 'DistilBERT' : c.variant === 'roberta' ? 'RoBERTa' : 'BERT',
    layers: c.layers,
    heads: c.heads,
    hidden: c.hidden,
    ffn: c.intermediate,
    labels: c.labels,
    tokenizer: {
      kind: existsSync(join(dir, 'tokenizer.json')) ? 'tokenizer.json' : 'vocab.txt',
      maxLength: TextEncoder.fromDir(dir, c.maxPositions, c.vocabSize).maxLength,
    },
    dtype,
    ignored,
    ...(c.task !== undefined && { task: c.task }),
  };
}
