/** The rwkv family's implementations of the CLI's commands (engine/cli declares them; the registry finds these). */
import type { FamilyCommand } from '../../family.js';
import { runCompress } from './compress.js';
import { runGenerate, runLmEval } from './lm.js';
import { runLogits } from './logits.js';
import { runMemory } from './memory.js';
import { runRwkvRun } from './run.js';
import { runRwkvPlan } from './plan.js';

export const COMMANDS: Record<string, FamilyCommand> = {
  logits: runLogits,
  'lm-eval': runLmEval,
  generate: runGenerate,
  memory: runMemory,
  compress: runCompress,
  run: runRwkvRun,
  plan: runRwkvPlan,
};
