import type { Command } from 'commander';

export function registerSocs(program: Command): void {
  const socs = program
    .command('socs')
    .description('list the SoC profiles (bundled in socs/ and your own in the data directory)')
    .option('--json', 'print a JSON array')
    .action(async (f: { json?: boolean }) => (await import('../actions/socs.js')).listSocs(f));
  socs
    .command('show')
    .description('one SoC profile: every number with its kind (measured, peak, derived, unverified) and source')
    .argument('<id>', 'profile id (see shardlab socs)')
    .option('--json', 'print the profile as JSON')
    .action(async (id: string, _f: unknown, cmd: Command) => {
      // --json after "show" may be taken by the parent command, so read both.
      const { json } = cmd.optsWithGlobals<{ json?: boolean }>();
      (await import('../actions/socs.js')).showSoc(id, json);
    });
}
