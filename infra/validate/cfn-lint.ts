/**
 * cfn-lint's rules on CloudFormation's current resource schemas: AWS's own `@aws/cloudformation-validate`
 * (WebAssembly, offline), in the copy aws-cdk-lib ships and pins. The npm package `cfn-lint` is not used: its
 * bundled specification dates from 2019 and cannot parse this template (docs/deploy.md, "Template validators").
 */
import { createRequire } from 'node:module';
import type { Finding } from './findings';

interface Diagnostic {
  ruleId: string;
  severity: 'FATAL' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG';
  message: string;
  entity?: { logicalId: string };
}
interface Engine {
  validateTemplate(
    template: unknown,
    config: { severityLevel: string; detailLevel: string; pseudoParameterOverrides?: { region: string } },
  ): { status: string; diagnostics: Diagnostic[] };
  free(): void;
}
interface ValidateModule {
  CompositeEngine: new () => Engine;
  TemplateContent: new (content: string, name?: string) => unknown;
}

/** Resolved from aws-cdk-lib's own location, where npm installs the copy it bundles. */
function validateModule(): ValidateModule {
  const fromCdk = createRequire(createRequire(import.meta.url).resolve('aws-cdk-lib/package.json'));
  return fromCdk('@aws/cloudformation-validate') as ValidateModule;
}

/**
 * Every diagnostic at `severityLevel` or above. The gate is WARN: INFO notes (create-only properties, untagged
 * resources, no architecture metadata) describe the template rather than fault it.
 */
export function cfnLint(templateJson: string, region: string, severityLevel = 'WARN'): Finding[] {
  const v = validateModule();
  const engine = new v.CompositeEngine();
  try {
    const report = engine.validateTemplate(new v.TemplateContent(templateJson, 'template.json'), {
      severityLevel,
      detailLevel: 'STANDARD',
      pseudoParameterOverrides: { region },
    });
    return report.diagnostics.map((d) => ({
      tool: 'cfn-lint',
      rule: d.ruleId,
      resource: d.entity?.logicalId ?? '(template)',
      message: `${d.severity}: ${d.message}`,
    }));
  } finally {
    engine.free();
  }
}
