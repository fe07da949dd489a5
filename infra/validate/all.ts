/**
 * The four template validators on one packaged template, each timed, and their findings judged against the
 * suppressions file. Used by `npm run validate` (run.ts) and by test/unit/infra/validators.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asl } from './asl';
import { cdkNag } from './cdk-nag';
import { cfnGuard } from './cfn-guard';
import { cfnLint } from './cfn-lint';
import { type Finding, judge, readSuppressions, type Tool, type Verdict } from './findings';

const SUPPRESSIONS = fileURLToPath(new URL('../validation-suppressions.yml', import.meta.url));

export interface Validation extends Verdict {
  findings: Finding[];
  /** Wall-clock milliseconds per validator. */
  ms: Record<Tool, number>;
}

async function timed<T>(run: () => T | Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await run();
  return [result, Math.round(performance.now() - started)];
}

/** Runs every validator on `<dir>/cloudformation-template-update-stack.json` (a `serverless package` output). */
export async function validatePackaged(dir: string, region: string): Promise<Validation> {
  const path = join(dir, 'cloudformation-template-update-stack.json');
  const json = await readFile(path, 'utf8');
  // cfn-guard runs as a separate process, so it overlaps the in-process validators.
  const guard = timed(() => cfnGuard(path));
  const [lint, lintMs] = await timed(() => cfnLint(json, region));
  const [nag, nagMs] = await timed(() => cdkNag(path));
  const [machines, aslMs] = await timed(() => asl(JSON.parse(json)));
  const [guardFindings, guardMs] = await guard;
  const findings = [...lint, ...guardFindings, ...nag, ...machines];
  return {
    findings,
    ms: { 'cfn-lint': lintMs, 'cfn-guard': guardMs, 'cdk-nag': nagMs, 'asl-validator': aslMs },
    ...judge(findings, readSuppressions(SUPPRESSIONS)),
  };
}
