/**
 * What every template validator reports, and the one suppressions file (infra/validation-suppressions.yml) that
 * lists each finding we keep, with its reason. A finding no entry matches fails the run; so does an entry that
 * matches no finding, so the file cannot outlive the template it describes.
 */
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';

export type Tool = 'cfn-lint' | 'cfn-guard' | 'cdk-nag' | 'asl-validator';

export interface Finding {
  tool: Tool;
  /** The validator's own rule id: `W3005`, `api_gw_v2_access_logs_enabled_check`, `AwsSolutions-IAM5[Resource::*]`. */
  rule: string;
  /** Logical id of the resource (or output, condition), `(template)` when the finding names none. */
  resource: string;
  message: string;
}

export interface Suppression {
  tool: Tool;
  rule: string;
  /** Logical ids; `*` matches any run of characters (`*LambdaFunction`). */
  resources: string[];
  reason: string;
}

const TOOLS: readonly Tool[] = ['cfn-lint', 'cfn-guard', 'cdk-nag', 'asl-validator'];

/** Reads and checks the suppressions file: every entry names a tool, a rule, resources and a reason. */
export function readSuppressions(path: string): Suppression[] {
  const entries = load(readFileSync(path, 'utf8'));
  if (!Array.isArray(entries)) throw new Error(`${path}: expected a list of suppressions`);
  return entries.map((entry: Partial<Suppression>, i) => {
    const where = `${path} entry ${i + 1}`;
    if (!entry || !TOOLS.includes(entry.tool as Tool))
      throw new Error(`${where}: tool must be one of ${TOOLS}`);
    if (typeof entry.rule !== 'string' || entry.rule === '') throw new Error(`${where}: rule is required`);
    if (!Array.isArray(entry.resources) || entry.resources.length === 0) {
      throw new Error(`${where} (${entry.rule}): resources must list at least one logical id or pattern`);
    }
    if (typeof entry.reason !== 'string' || entry.reason.trim().length < 20) {
      throw new Error(
        `${where} (${entry.rule}): reason must say why the finding stays (20 characters or more)`,
      );
    }
    return entry as Suppression;
  });
}

function pattern(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

function matches(suppression: Suppression, finding: Finding): boolean {
  return (
    suppression.tool === finding.tool &&
    suppression.rule === finding.rule &&
    suppression.resources.some((glob) => pattern(glob).test(finding.resource))
  );
}

export interface Verdict {
  /** Findings no suppression covers: each one fails the run. */
  unsuppressed: Finding[];
  suppressed: Finding[];
  /** Suppressions that matched nothing: stale, they fail the run too. */
  unused: Suppression[];
}

export function judge(findings: Finding[], suppressions: Suppression[]): Verdict {
  const used = new Set<Suppression>();
  const unsuppressed: Finding[] = [];
  const suppressed: Finding[] = [];
  for (const finding of findings) {
    const by = suppressions.find((s) => matches(s, finding));
    if (by) {
      used.add(by);
      suppressed.push(finding);
    } else unsuppressed.push(finding);
  }
  return { unsuppressed, suppressed, unused: suppressions.filter((s) => !used.has(s)) };
}

/** Findings per tool, e.g. for the closing line `cfn-lint 12, cfn-guard 30, …`. */
export function countByTool(findings: Finding[]): Record<Tool, number> {
  const counts = Object.fromEntries(TOOLS.map((t) => [t, 0])) as Record<Tool, number>;
  for (const f of findings) counts[f.tool]++;
  return counts;
}
