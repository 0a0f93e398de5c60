import { FAMILIES, type ModelFamily } from '../../families/index.js';

/** A family as data: its descriptive fields and planners, without its functions. */
function summary(f: ModelFamily) {
  return {
    id: f.id,
    title: f.title,
    system: f.system,
    metric: { name: f.metric.name, higherIsBetter: f.metric.higherIsBetter, format: f.metric.format },
    unit: f.unit,
    planners: f.planners().map((p) => ({ name: p.name, description: p.description })),
  };
}

/** shardlab families: the registered model families, as text or a JSON array. */
export function runFamilies(f: { json?: boolean }): void {
  const families = FAMILIES.map(summary);
  if (f.json) return console.log(JSON.stringify(families));
  families.forEach((fam, i) => {
    if (i > 0) console.log();
    console.log(`${fam.id}: ${fam.title}, after ${fam.system}`);
    console.log(`  metric    ${fam.metric.name} (${fam.metric.higherIsBetter ? 'higher' : 'lower'} is better)`);
    console.log(`  unit      ${fam.unit}`);
    if (fam.planners.length === 0) return console.log('  planners  none yet (the family runs models but does not plan them)');
    console.log('  planners');
    const w = Math.max(...fam.planners.map((p) => p.name.length + (p === fam.planners[0] ? ' (default)'.length : 0)));
    fam.planners.forEach((p, j) => console.log(`    ${`${p.name}${j === 0 ? ' (default)' : ''}`.padEnd(w)}  ${p.description}`));
  });
}
