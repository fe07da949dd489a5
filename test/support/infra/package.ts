import { type Packaged, packageTemplate } from '../../../infra/package';

/** The deploy parameters without a default (serverless.yml `params`), as a real stage would pass them. */
export const PACKAGE_PARAMS = {
  wechatpayMchid: '1230000109',
  wechatpayMerchantSerialNo: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  wechatpayPublicKeyId: 'PUB_KEY_ID_0114232134912410000000000000',
  wechatpayPublicKeySha256: 'b0a2c6f6a84a3c0aa4b0b0b5d6b2d5f4b8a2f9c1e3d5f7a9b1c3d5e7f9a1b3c5',
  merchantCertificateNotAfter: '2031-06-30T08:00:00Z',
  alarmSubscribers: 'payments-oncall@example.com,https://hooks.example.com/alerts',
  signingKeyAdminArn: 'arn:aws:iam::111122223333:role/kms-key-admin',
  signingKeyBreakGlassArn: 'arn:aws:iam::111122223333:role/break-glass',
};

/**
 * `serverless package --stage citest` with PACKAGE_PARAMS plus `extra`, offline. Cached (infra/package.ts): every
 * test file asking for the same parameters shares one packaging. The directory is shared: read it, never write.
 */
export function packaged<T>(extra: Record<string, string> = {}): Promise<Packaged<T>> {
  return packageTemplate<T>({ stage: 'citest', params: { ...PACKAGE_PARAMS, ...extra } });
}

export interface Resource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Properties: Record<string, unknown>;
}
export interface Template {
  Conditions: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: unknown; Description?: string }>;
}
export interface Statement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export function ofType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

export function actions(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Every IAM statement in the template, with the logical id of the role or policy holding it. */
export function iamStatements(template: Template): { owner: string; statement: Statement }[] {
  const found: { owner: string; statement: Statement }[] = [];
  for (const [id, res] of Object.entries(template.Resources)) {
    const documents =
      res.Type === 'AWS::IAM::Role'
        ? ((res.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).map(
            (p) => p.PolicyDocument,
          )
        : ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(res.Type)
          ? [res.Properties.PolicyDocument as { Statement: Statement[] }]
          : [];
    for (const document of documents) {
      for (const statement of document.Statement) found.push({ owner: id, statement });
    }
  }
  return found;
}

/** The Properties of resource `id`, failing the test (by name) when the template lacks it. */
export function propertiesOf(template: Template, id: string): Record<string, unknown> {
  const found = template.Resources[id];
  if (!found) throw new Error(`resource ${id} missing from the packaged template`);
  return found.Properties ?? {};
}
