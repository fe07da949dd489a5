/**
 * `npm run validate`: packages the service offline (as `npm test` does, same cache) and runs cfn-lint, cfn-guard
 * with the Control Tower rules, cdk-nag and asl-validator on the template. Exits 1 on any finding that
 * infra/validation-suppressions.yml does not list, or on an entry there that matches nothing.
 */
import { packageTemplate } from '../package';
import { validatePackaged } from './all';
import { countByTool, type Finding } from './findings';

const line = (f: Finding) => `  ${f.tool} ${f.rule} ${f.resource}: ${f.message}`;

const stage = process.env.VALIDATE_STAGE ?? 'dev';
const region = process.env.VALIDATE_REGION ?? 'ap-southeast-1';
const { dir } = await packageTemplate({ stage, params: {} });
const result = await validatePackaged(dir, region);

const counts = (findings: Finding[]) =>
  Object.entries(countByTool(findings))
    .map(([tool, n]) => `${tool} ${n}`)
    .join(', ');
console.log(`findings: ${counts(result.findings)} (${result.suppressed.length} suppressed with a reason)`);
console.log(
  `time: ${Object.entries(result.ms)
    .map(([tool, ms]) => `${tool} ${ms} ms`)
    .join(', ')}`,
);
if (result.unsuppressed.length > 0) {
  console.log(`\n${result.unsuppressed.length} finding(s) not in infra/validation-suppressions.yml:`);
  for (const f of result.unsuppressed) console.log(line(f));
}
if (result.unused.length > 0) {
  console.log('\nsuppressions that match no finding (remove them):');
  for (const s of result.unused) console.log(`  ${s.tool} ${s.rule} ${s.resources.join(',')}`);
}
process.exitCode = result.unsuppressed.length > 0 || result.unused.length > 0 ? 1 : 0;
