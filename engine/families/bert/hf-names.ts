/**
 * The names a BERT-family checkpoint may give the tensors shardlab reads under Hugging Face's BERT names:
 * BERT's own, a bare BertModel's (without `bert.`), TensorFlow-converted LayerNorm names (gamma, beta) and
 * DistilBERT's (DistilBertForSequenceClassification: `distilbert.transformer.layer.N.attention.q_lin`, …, its
 * classifier's hidden layer `pre_classifier` standing where BERT's pooler is) and RoBERTa's (`roberta.*`, its
 * classification head's `dense` and `out_proj` where BERT's pooler and classifier are).
 */
const DISTILBERT: [RegExp, string][] = [
  [/^bert\.embeddings\./, 'distilbert.embeddings.'],
  [/^bert\.encoder\.layer\.(\d+)\.attention\.self\.query\./, 'distilbert.transformer.layer.$1.attention.q_lin.'],
  [/^bert\.encoder\.layer\.(\d+)\.attention\.self\.key\./, 'distilbert.transformer.layer.$1.attention.k_lin.'],
  [/^bert\.encoder\.layer\.(\d+)\.attention\.self\.value\./, 'distilbert.transformer.layer.$1.attention.v_lin.'],
  [/^bert\.encoder\.layer\.(\d+)\.attention\.output\.dense\./, 'distilbert.transformer.layer.$1.attention.out_lin.'],
  [/^bert\.encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\./, 'distilbert.transformer.layer.$1.sa_layer_norm.'],
  [/^bert\.encoder\.layer\.(\d+)\.intermediate\.dense\./, 'distilbert.transformer.layer.$1.ffn.lin1.'],
  [/^bert\.encoder\.layer\.(\d+)\.output\.dense\./, 'distilbert.transformer.layer.$1.ffn.lin2.'],
  [/^bert\.encoder\.layer\.(\d+)\.output\.LayerNorm\./, 'distilbert.transformer.layer.$1.output_layer_norm.'],
  [/^bert\.pooler\.dense\./, 'pre_classifier.'],
];

/** DistilBERT's name of a BERT tensor name (the name itself when DistilBERT names it the same, as classifier.*). */
export function distilbertName(name: string): string {
  for (const [re, to] of DISTILBERT) if (re.test(name)) return name.replace(re, to);
  return name;
}

/** RoBERTa's name of a BERT tensor name: roberta.*, and its classifier head's dense and out_proj for BERT's pooler and classifier. */
export function robertaName(name: string): string {
  if (name.startsWith('bert.pooler.dense.')) return name.replace('bert.pooler.dense.', 'classifier.dense.');
  if (name.startsWith('classifier.')) return name.replace('classifier.', 'classifier.out_proj.');
  return name.replace(/^bert\./, 'roberta.');
}

/** Every name a tensor named `name` (Hugging Face BERT's) may have in a checkpoint, the variant's first. */
export function nameVariants(name: string, variant?: 'distilbert' | 'roberta'): string[] {
  if (variant === 'distilbert') return [distilbertName(name), name];
  if (variant === 'roberta') return [robertaName(name), name];
  const names = [name, name.replace(/^bert\./, '')];
  if (/\.LayerNorm\.(weight|bias)$/.test(name))
    for (const n of names.slice(0, 2))
      names.push(n.replace(/\.LayerNorm\.weight$/, '.LayerNorm.gamma').replace(/\.LayerNorm\.bias$/, '.LayerNorm.beta'));
  return names;
}
