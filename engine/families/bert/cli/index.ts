/** The bert family's implementations of the CLI's commands (engine/cli declares them; the registry finds these). */
import type { FamilyCommand } from '../../family.js';
import { runCost } from './cost.js';
import { runEval, runLogits } from './eval.js';
import { runRun } from './run.js';
import { runAccuracy, runProfile, runShard } from './shard.js';
import { runVerify } from './verify.js';

export const COMMANDS: Record<string, FamilyCommand> = {
  eval: runEval,
  logits: runLogits,
  shard: runShard,
  accuracy: runAccuracy,
  profile: runProfile,
  cost: runCost,
  run: runRun,
  verify: runVerify,
};
