/** The flags of RWKV-edge's techniques, the same on every command that runs or accounts an RWKV model. */
import { InvalidArgumentError, type Command } from 'commander';

function factor(value: string): number {
  const x = Number(value);
  if (!(x >= 1) || !Number.isFinite(x)) throw new InvalidArgumentError('--lowrank takes a factor f >= 1 (rank D/f), e.g. 8');
  return x;
}

function lowRankInit(value: string): 'auto' | 'svd' {
  if (value !== 'auto' && value !== 'svd')
    throw new InvalidArgumentError('use auto (a trained DIR-lowrank<f>-<kind> if there is one) or svd');
  return value;
}

function lowRankKind(value: string): 'linear' | 'relu2' {
  if (value !== 'linear' && value !== 'relu2') throw new InvalidArgumentError('use linear (x058) or relu2 (x059)');
  return value;
}

export function addTechniqueOptions(cmd: Command): Command {
  return cmd
    .option(
      '--techniques <list>',
      "all (the paper's combination: lowrank, sparse-ffn, emb-cache, cluster-head) | none | a comma list of those and int8",
    )
    .option(
      '--lowrank <f>',
      'low-rank projections at rank D/f (paper: 8); a trained DIR-lowrank<f>-<kind> beside the model is used if present',
      factor,
    )
    .option('--lowrank-kind <kind>', 'linear (x058: W2·W1·x) | relu2 (x059: W2·relu(W1·x)² + d⊙x, the deployed one)', lowRankKind)
    .option('--lowrank-init <init>', 'auto (the trained sibling if present, else SVD) | svd (the untrained SVD factors)', lowRankInit)
    .option(
      '--predictor <spec>',
      'sparse FFN: mlp:θ (trained MLP), quant:B:Q (B-bit key copy, top 1 − Q) or both, e.g. mlp:0.7,quant:1:0.95',
    )
    .option('--emb-cache <N[:policy]>', 'embedding rows cached, fifo (default) or lru, e.g. 1000:fifo')
    .option('--head-clusters <K[:P]>', 'hierarchical head: exact logits for the most probable of K clusters up to probability P (0.95)')
    .option('--int8', 'every matrix but the embedding as INT8 (the rwkv pip package scheme), dequantized at compute');
}
