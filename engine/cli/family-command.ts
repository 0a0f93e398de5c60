import { UserError } from '../core/errors.js';
import { familyOf } from '../families/index.js';
import { CheckFailed } from './check.js';

/** Runs a command as the family of its model (a directory, shard store or preset) implements it. */
export async function familyCommand(name: string, model: string, flags: object): Promise<void> {
  const family = familyOf(model);
  const action = (await family.commands())[name];
  if (!action) throw new UserError(`shardlab ${name} does not apply to ${family.id} models (${model}); see shardlab families`);
  if ((await action(flags as never)) === false) throw new CheckFailed();
}
