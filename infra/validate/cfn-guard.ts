/**
 * cfn-guard with the AWS Control Tower proactive controls, both as `@cdklabs/cdk-validator-cfnguard` ships them
 * (the guard binary for this platform and the rules), run as the `cfn-guard validate` command line.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Finding } from './findings';

const packageDir = dirname(
  createRequire(import.meta.url).resolve('@cdklabs/cdk-validator-cfnguard/package.json'),
);
const ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };
const OS: Record<string, string> = { linux: 'ubuntu', darwin: 'macos' };

function guardBinary(): string {
  const os = OS[process.platform];
  const arch = ARCH[process.arch];
  if (!os || !arch) throw new Error(`cfn-guard: no binary shipped for ${process.platform}/${process.arch}`);
  return join(packageDir, 'bin', os, arch, 'cfn-guard');
}

const CONTROL_TOWER_RULES = join(packageDir, 'rules/control-tower/cfn-guard');

interface GuardReport {
  not_compliant?: { Rule?: { name?: string; checks?: unknown[] } }[];
}

/** Logical ids of the resources a guard check traversed to (`/Resources/<id>/…`). */
function resourcesOf(check: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(check)) for (const item of check) resourcesOf(item, found);
  else if (check && typeof check === 'object') {
    for (const [key, value] of Object.entries(check)) {
      if (key === 'path' && typeof value === 'string' && value.startsWith('/Resources/')) {
        found.add(value.split('/')[2] ?? '');
      } else resourcesOf(value, found);
    }
  }
  return found;
}

/** The Control Tower control id and title a rule's custom message starts with (`[CT.LAMBDA.PR.2]: …`). */
function controlOf(check: unknown): string {
  const text = JSON.stringify(check).match(/\[(CT\.[A-Z0-9.]+)\]: ([^\\[]+)/);
  return text ? `${text[1]}: ${text[2]?.trim()}` : 'Control Tower rule not met';
}

/** One finding per rule and resource. cfn-guard exits 19 when a rule fails; that is a result, not an error. */
export async function cfnGuard(templatePath: string, rules = CONTROL_TOWER_RULES): Promise<Finding[]> {
  const args = ['validate', '--rules', rules, '--data', templatePath, '--output-format', 'json'];
  const { stdout } = await promisify(execFile)(
    guardBinary(),
    [...args, '--show-summary', 'none', '--structured'],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  ).catch((error: { code?: number; stdout?: string; stderr?: string }) => {
    if (error.code === 19 && error.stdout) return { stdout: error.stdout };
    throw new Error(`cfn-guard failed (exit ${error.code}): ${error.stderr ?? error}`, { cause: error });
  });
  const findings: Finding[] = [];
  for (const report of JSON.parse(stdout) as GuardReport[]) {
    for (const check of report.not_compliant ?? []) {
      const rule = check.Rule?.name ?? 'unnamed rule';
      for (const resource of resourcesOf(check)) {
        findings.push({ tool: 'cfn-guard', rule, resource, message: controlOf(check) });
      }
    }
  }
  return findings;
}
