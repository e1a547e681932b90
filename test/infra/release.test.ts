/**
 * Releases: every function is published as a version behind the alias `live`, which the API calls.
 * prod moves the alias by canary through CodeDeploy (10 % for 5 minutes, then all) and moves it back
 * by itself when the function's rollback alarms go off; dev moves it at once. Pinned on the
 * synthesized templates, with cdk-nag on.
 */
import { type CfnElement, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { NOT_ROUTED, ROUTES } from '../../lambda/contract';
import { buildApp, CONTEXT, ContextError } from '../../lib/app';
import type { ChatStack } from '../../lib/chat-stack';
import { acknowledgementsUnder } from '../support/nag';
import { JWT_CONTEXT, NO_BUNDLING, PROD_CONTEXT, newApp } from './app';

const FUNCTION_IDS = [...ROUTES.map((route) => route.id), NOT_ROUTED.id];

const logicalId = (stack: Stack, construct: IConstruct): string => stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

function synth(context: Record<string, unknown>) {
  const app = newApp({ ...NO_BUNDLING, ...context });
  const stack = buildApp(app);
  return { app, stack, template: Template.fromStack(stack) };
}

let prod: { app: ReturnType<typeof newApp>; stack: ChatStack; template: Template };
let dev: typeof prod;

beforeAll(() => {
  prod = synth(PROD_CONTEXT);
  dev = synth(JWT_CONTEXT);
});

/** The one version of a function, its logical id and resource. */
function versionOf(t: Template, stack: ChatStack, functionId: string): [string, Record<string, any>] {
  const versions = Object.entries(t.findResources('AWS::Lambda::Version', { Properties: { FunctionName: { Ref: logicalId(stack, stack.functions[functionId]) } } }));
  expect(versions).toHaveLength(1);
  return versions[0];
}

describe.each(['prod', 'dev'] as const)('%s: versions and the live alias', (stage) => {
  test.each(FUNCTION_IDS)('%s is published as a version, kept after the next one, behind the alias `live`', (functionId) => {
    const { stack, template } = stage === 'prod' ? prod : dev;
    const [versionId, version] = versionOf(template, stack, functionId);
    // Kept: the alias can be pointed back at it by hand (docs/operations.md, Rollback).
    expect([version.DeletionPolicy, version.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    const alias = template.toJSON().Resources[logicalId(stack, stack.functions[functionId].live)];
    expect(alias.Properties).toEqual({
      FunctionName: { Ref: logicalId(stack, stack.functions[functionId]) },
      FunctionVersion: getAtt(versionId, 'Version'),
      Name: 'live',
    });
  });
});

describe('prod: canary releases with automatic rollback (CodeDeploy)', () => {
  const groupOf = (functionId: string) => prod.template.toJSON().Resources[logicalId(prod.stack, prod.stack.release!.deploymentGroups[functionId])];
  const alarmRef = (name: string) => {
    const found = Object.keys(prod.template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: `GroupChat-prod-${name}` } }));
    expect(found).toHaveLength(1);
    return { Ref: found[0] };
  };

  test('one CodeDeploy application, one deployment group per function, all named by CloudFormation', () => {
    prod.template.resourceCountIs('AWS::CodeDeploy::Application', 1);
    prod.template.hasResourceProperties('AWS::CodeDeploy::Application', { ComputePlatform: 'Lambda', ApplicationName: Match.absent() });
    prod.template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', FUNCTION_IDS.length);
    expect(Object.keys(prod.stack.release!.deploymentGroups).sort()).toEqual([...FUNCTION_IDS].sort());
  });

  test.each(FUNCTION_IDS)('%s: 10 %% for 5 minutes, then all; rolled back when its alarms go off, or the deployment fails or is stopped', (functionId) => {
    expect(groupOf(functionId).Properties).toEqual({
      ApplicationName: { Ref: logicalId(prod.stack, prod.stack.release!.application) },
      DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      DeploymentStyle: { DeploymentOption: 'WITH_TRAFFIC_CONTROL', DeploymentType: 'BLUE_GREEN' },
      AlarmConfiguration: { Enabled: true, Alarms: [{ Name: alarmRef(`${functionId}CanaryErrors`) }, { Name: alarmRef('CanaryApi5xxRate') }] },
      AutoRollbackConfiguration: { Enabled: true, Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'] },
      ServiceRoleArn: getAtt(logicalId(prod.stack, prod.stack.release!.role)),
    });
  });

  test.each(FUNCTION_IDS)("%s: CloudFormation hands the alias's update to its deployment group", (functionId) => {
    const alias = prod.template.toJSON().Resources[logicalId(prod.stack, prod.stack.functions[functionId].live)];
    expect(alias.UpdatePolicy).toEqual({
      CodeDeployLambdaAliasUpdate: {
        ApplicationName: { Ref: logicalId(prod.stack, prod.stack.release!.application) },
        DeploymentGroupName: { Ref: logicalId(prod.stack, prod.stack.release!.deploymentGroups[functionId]) },
      },
    });
  });

  test.each(FUNCTION_IDS)("%s's rollback alarm counts the errors of the new version only, per minute", (functionId) => {
    const fnRef = { Ref: logicalId(prod.stack, prod.stack.functions[functionId]) };
    const [versionId] = versionOf(prod.template, prod.stack, functionId);
    const alarm = Object.values(prod.template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: `GroupChat-prod-${functionId}CanaryErrors` } }))[0];
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    // The alias's calls (Resource <function>:live) that ran on the version this deploy published.
    expect(Object.fromEntries(alarm.Properties.Dimensions.map((d: { Name: string; Value: unknown }) => [d.Name, d.Value]))).toEqual({
      FunctionName: fnRef,
      Resource: { 'Fn::Join': ['', [fnRef, ':live']] },
      ExecutedVersion: getAtt(versionId, 'Version'),
    });
  });

  test("the API's 5xx rate per minute rolls back every function's canary", () => {
    const alarm = Object.values(prod.template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: 'GroupChat-prod-CanaryApi5xxRate' } }))[0].Properties;
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 2, DatapointsToAlarm: 2 });
    const [expression, ...metrics] = alarm.Metrics;
    expect(expression.Expression).toBe('IF(requests >= 20, 100 * FILL(serverErrors, 0) / requests, 0)');
    expect(metrics.map((m: any) => [m.Id, m.MetricStat.Metric.MetricName, m.MetricStat.Period])).toEqual([
      ['requests', 'Count', 60],
      ['serverErrors', '5xx', 60],
    ]);
  });

  test("CodeDeploy's role: read and move these aliases, read these alarms, nothing else", () => {
    const roleId = logicalId(prod.stack, prod.stack.release!.role);
    const role = prod.template.toJSON().Resources[roleId].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'codedeploy.amazonaws.com' } }]);
    expect([role.ManagedPolicyArns, role.Policies]).toEqual([undefined, undefined]);
    const policies = Object.values(prod.template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }));
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement;
    const functionArns = FUNCTION_IDS.map((id) => getAtt(logicalId(prod.stack, prod.stack.functions[id])));
    const aliasArns = FUNCTION_IDS.map((id) => ({ Ref: logicalId(prod.stack, prod.stack.functions[id].live) }));
    const rollbackAlarms = [...FUNCTION_IDS.map((id) => `${id}CanaryErrors`), 'CanaryApi5xxRate'].map((name) => getAtt(alarmRef(name).Ref));
    const sorted = (items: unknown[]) => items.map((item) => JSON.stringify(item)).sort();
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: ['lambda:GetAlias', 'lambda:GetProvisionedConcurrencyConfig', 'lambda:UpdateAlias'] });
    expect(sorted(statements[0].Resource)).toEqual(sorted([...functionArns, ...aliasArns]));
    expect(statements[1]).toMatchObject({ Effect: 'Allow', Action: 'cloudwatch:DescribeAlarms' });
    expect(sorted(statements[1].Resource)).toEqual(sorted(rollbackAlarms));
  });

  test('cdk-nag: no finding, and nothing acknowledged for the release', () => {
    expect(new AwsSolutionsChecks().validateScope(prod.app).violations).toEqual([]);
    expect(new ServerlessChecks().validateScope(prod.app).violations).toEqual([]);
    expect(acknowledgementsUnder(prod.stack.release!)).toEqual([]);
  });
});

describe('dev: releases at once', () => {
  test('no CodeDeploy, no canary alarms: the alias moves to the new version as the stack updates', () => {
    expect(dev.stack.release).toBeUndefined();
    dev.template.resourceCountIs('AWS::CodeDeploy::Application', 0);
    dev.template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 0);
    for (const alias of Object.values(dev.template.findResources('AWS::Lambda::Alias'))) expect(alias.UpdatePolicy).toBeUndefined();
    const names = Object.values(dev.template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName as string);
    expect(names.filter((name) => name.includes('Canary'))).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(dev.app).violations).toEqual([]);
  });
});

describe('the release setting', () => {
  test('overrides the stage either way; anything but canary or allAtOnce is refused in one line', () => {
    expect(synth({ ...JWT_CONTEXT, [CONTEXT.release]: 'canary' }).stack.release).toBeDefined();
    expect(synth({ ...PROD_CONTEXT, [CONTEXT.release]: 'allAtOnce' }).stack.release).toBeUndefined();
    expect(() => synth({ ...PROD_CONTEXT, [CONTEXT.release]: 'linear' })).toThrow(new ContextError('release must be canary or allAtOnce, got "linear"'));
  });
});
