/**
 * Observability on the synthesized template, built as `cdk synth` builds it (buildApp, cdk.json's
 * feature flags, cdk-nag): every function traces actively with X-Ray and may send its segments,
 * and carries the Powertools settings its logs and metrics read (lambda/http/observability.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/contract';
import { buildApp, CONTEXT } from '../../lib/app';
import { OBSERVABILITY_ENV } from '../../lib/chat-function';
import { PROJECT_ROOT, type ChatStack } from '../../lib/chat-stack';

const CDK_JSON_CONTEXT = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context;
/** The code assets do not matter here: skip esbuild. */
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const PROD_CONTEXT = {
  [CONTEXT.stage]: 'prod',
  [CONTEXT.jwtIssuer]: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example',
  [CONTEXT.jwtAudience]: 'client-a',
};

let app: App;
let stack: ChatStack;
let template: Template;

beforeAll(() => {
  app = new App({ context: { ...CDK_JSON_CONTEXT, ...NO_BUNDLING, ...PROD_CONTEXT } });
  stack = buildApp(app);
  template = Template.fromStack(stack);
});

const logicalId = (s: Stack, construct: { node: { defaultChild?: unknown } }) =>
  s.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);

const functions = () => Object.entries(template.findResources('AWS::Lambda::Function'));

test('the stack has functions, and ChatFunction made each of them (the HTTP routes\' and push\'s)', () => {
  expect(functions().length).toBeGreaterThan(0);
  const made = [...Object.values(stack.functions), ...Object.values(stack.push.functions)];
  expect(functions().map(([id]) => id).sort()).toEqual(made.map((fn) => logicalId(stack, fn)).sort());
});

test('every function traces actively with X-Ray', () => {
  for (const [, fn] of functions()) expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
});

test('every function names its service and metrics namespace, and would capture no response in a trace', () => {
  expect(OBSERVABILITY_ENV).toEqual({
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
  });
  for (const [id, fn] of functions()) {
    const variables: Record<string, unknown> = fn.Properties.Environment.Variables;
    expect({ id, ...variables }).toMatchObject({ id, ...OBSERVABILITY_ENV });
    // Nothing that would log events (bodies, Authorization), print pretty logs or silence the metrics.
    const powertools = Object.keys(variables).filter((name) => name.startsWith('POWERTOOLS_'));
    expect({ id, powertools: powertools.sort() }).toEqual({ id, powertools: Object.keys(OBSERVABILITY_ENV).sort() });
  }
});

test("every function's role may send trace segments and telemetry to X-Ray (which has no resource-level permissions)", () => {
  for (const fn of Object.values(stack.functions)) {
    const roleId = logicalId(stack, fn.role as iam.Role);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => policy.Properties.Roles.some((role: { Ref?: string }) => role.Ref === roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    const xray = statements.filter((s) => [s.Action].flat().some((action: string) => action.startsWith('xray:')));
    expect({ roleId, xray }).toEqual({
      roleId,
      xray: [{ Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' }],
    });
    // The acknowledged AwsSolutions-IAM5[Resource::*] covers these two actions and nothing else.
    expect(statements.filter((s) => [s.Resource].flat().includes('*'))).toEqual(xray);
  }
});

test('cdk-nag (AwsSolutions) reports no unacknowledged finding', () => {
  expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
});
