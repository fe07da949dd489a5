'use strict';
// What every function in serverless.yml gets that osls does not write itself, generated here so that a new
// function cannot be added without it: an Errors and a Throttles alarm (stage-specific: the function name carries
// the stage), the optional customer-managed key (param logsKmsKeyArn) on the log group osls creates for it, and
// DependsOn on every resource provider.environment names by name rather than by reference. A function deployed
// under a `condition` gets its alarms under the same one.
// serverless.yml includes this file under `resources`; osls calls the exported function while it resolves variables.

/**
 * Resources that provider.environment names by their physical name (CONTRACTS_TABLE, NOTIFICATIONS_TABLE,
 * EVENT_BUS_NAME, WECHATPAY_SIGNING_KEY_ID): CloudFormation sees no reference, so without DependsOn a function
 * could be created, and invoked, before they exist.
 */
const NAMED_IN_ENVIRONMENT = ['ContractsTable', 'NotificationsTable', 'EventBus', 'SigningKeyAlias'];

const pascal = (name) => name.charAt(0).toUpperCase() + name.slice(1);

/** One alarm on an AWS/Lambda metric of one function, sent to the alert topic in both directions. */
function lambdaAlarm({ service, stage, fn, metric, description, condition }) {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    ...(condition ? { Condition: condition } : {}),
    Properties: {
      AlarmName: `${service}-${stage}-${fn}-${metric.toLowerCase()}`,
      AlarmDescription: description,
      Namespace: 'AWS/Lambda',
      MetricName: metric,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: `${pascal(fn)}LambdaFunction` } }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: 'AlertsTopic' }],
      OKActions: [{ Ref: 'AlertsTopic' }],
    },
  };
}

/** The Resources and extensions for the given functions (name -> its `condition`, if any). */
function functionResources({ service, stage, functions, logsKmsKeyArn }) {
  const Resources = {};
  const extensions = {};
  const encrypted = {
    Properties: { KmsKeyId: { 'Fn::If': ['UseLogsKmsKey', logsKmsKeyArn, { Ref: 'AWS::NoValue' }] } },
  };
  // The HTTP API's access log group (provider.logs.httpApi) too.
  extensions.HttpApiLogGroup = encrypted;
  for (const [fn, condition] of Object.entries(functions)) {
    Resources[`${pascal(fn)}ErrorsAlarm`] = lambdaAlarm({
      service,
      stage,
      fn,
      condition,
      metric: 'Errors',
      description: `${fn} ended invocations with an error (its log group has the details).`,
    });
    Resources[`${pascal(fn)}ThrottlesAlarm`] = lambdaAlarm({
      service,
      stage,
      fn,
      condition,
      metric: 'Throttles',
      description: `${fn} was throttled: its reserved concurrency (serverless.yml) is exhausted.`,
    });
    extensions[`${pascal(fn)}LogGroup`] = encrypted;
    extensions[`${pascal(fn)}LambdaFunction`] = { DependsOn: NAMED_IN_ENVIRONMENT };
  }
  return { Resources, extensions };
}

module.exports = async ({ resolveConfigurationProperty, resolveVariable }) => {
  const declared = (await resolveConfigurationProperty(['functions'])) ?? {};
  const functions = Object.fromEntries(Object.entries(declared).map(([name, fn]) => [name, fn?.condition]));
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const logsKmsKeyArn = await resolveVariable('param:logsKmsKeyArn');
  return functionResources({ service, stage, functions, logsKmsKeyArn });
};
