/** asl-validator (Amazon States Language schemas, paths and transitions) on every state machine in the template. */
import aslValidator from 'asl-validator';
import type { Finding } from './findings';

interface Resource {
  Type: string;
  Properties?: { Definition?: unknown; DefinitionString?: unknown };
}

export function asl(template: { Resources: Record<string, Resource> }): Finding[] {
  const findings: Finding[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const definition = resource.Properties?.Definition;
    if (typeof definition !== 'object' || definition === null) {
      findings.push({
        tool: 'asl-validator',
        rule: 'DefinitionNotInline',
        resource: id,
        message: 'the definition is not an inline JSON object, so it cannot be validated before deploy',
      });
      continue;
    }
    const { isValid, errors } = aslValidator(definition);
    if (isValid) continue;
    for (const error of errors) {
      findings.push({
        tool: 'asl-validator',
        rule: error['Error code'] ?? 'SCHEMA',
        resource: id,
        message:
          error.Message ?? `${error.instancePath ?? ''} ${error.message ?? JSON.stringify(error)}`.trim(),
      });
    }
  }
  return findings;
}
