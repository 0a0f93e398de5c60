/**
 * What a model family provides to the generic engine (sweeps, reports, the workbench, the CLI): how to
 * recognise and open its models, its unit of streaming and storage, its planners and its quality metric.
 * Generic code reaches a family only through the registry (index.ts), never by importing its folder.
 */

/** How a family's models are judged. */
export interface QualityMetric {
  /** Short name, as stored with every cached evaluation: 'accuracy', 'perplexity', … */
  name: string;
  /** True for accuracy-like metrics, false for losses and perplexity. */
  higherIsBetter: boolean;
  /** How a value prints: 'percent' (0–1 shown as %), or a plain number. */
  format: 'percent' | 'number';
}

export interface PlannerInfo {
  name: string;
  description: string;
}

export interface ModelFamily {
  /** Registry key, also stored with sweeps and plans: 'bert', 'rwkv', … */
  id: string;
  title: string;
  /** The paper or system this family's planning reproduces. */
  system: string;
  metric: QualityMetric;
  /** What one streamed, separately stored unit of this family holds. */
  unit: string;
  /** True when `dir` (a model directory, a shard store or a preset name) belongs to this family. */
  detect(dir: string): boolean;
  /** Every planner the family offers, its default first. */
  planners(): PlannerInfo[];
}
