/**
 * cdk-nag's AwsSolutions and Serverless packs on the packaged template, which aws-cdk-lib's CfnInclude turns into
 * the construct tree the packs walk. No synthesis, no CDK app on disk: the packs validate the tree directly.
 */
import { App, Stack } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { Finding } from './findings';

export function cdkNag(templatePath: string): Finding[] {
  const app = new App();
  const stack = new Stack(app, 'Packaged');
  new CfnInclude(stack, 'Template', { templateFile: templatePath });
  const findings: Finding[] = [];
  for (const pack of [new AwsSolutionsChecks(app), new ServerlessChecks(app)]) {
    for (const violation of pack.validateScope(stack).violations) {
      for (const { constructPath = '' } of violation.violatingResources) {
        findings.push({
          tool: 'cdk-nag',
          rule: violation.ruleName,
          // Packaged/Template/<logical id>
          resource: constructPath.split('/')[2] ?? '(template)',
          message: `${violation.severity}: ${violation.description}`,
        });
      }
    }
  }
  return findings;
}
