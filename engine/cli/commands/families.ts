import type { Command } from 'commander';

export function registerFamilies(program: Command): void {
  program
    .command('families')
    .description('list the model families: the system each reproduces, its quality metric, its unit of streaming and its planners')
    .option('--json', 'print a JSON array')
    .action(async (f: { json?: boolean }) => (await import('../actions/families.js')).runFamilies(f));
}
