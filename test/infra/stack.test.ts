/**
 * The synthesized stack, built exactly as `cdk synth` builds it: through buildApp() (so cdk-nag runs
 * and an unacknowledged finding fails the test) and with cdk.json's feature flags.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnElement, Validations, type Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { build } from 'esbuild';
import { DYNAMODB_CALL_BUDGET_MS, DYNAMODB_ENDPOINT_ENV } from '../../lambda/data/client';
import { createTableInput } from '../../lambda/data/table';
import { IDENTITY_ENV } from '../../lambda/http/identity';
import { ROUTES } from '../../lambda/routes';
import { buildApp, CONTEXT } from '../../lib/app';
import { esbuildOptionsFor } from '../../lib/bundling';
import { ChatStack, PROJECT_ROOT } from '../../lib/chat-stack';

/** The context `cdk synth` reads from cdk.json: the tests synthesize with the same feature flags. */
const CDK_JSON_CONTEXT = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context;
/** Skips esbuild, for apps whose code assets do not matter to a test. */
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

function newApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...CDK_JSON_CONTEXT, ...context } });
}

const logicalId = (stack: Stack, construct: IConstruct): string =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

const FIND = ROUTES.find((route) => route.id === 'FindGroupChat')!;
const IDENTITY_ROUTES = ROUTES.filter((route) => route.needsIdentity);

// One real synth (with bundling) for the whole file; the variants below skip bundling.
let app: App;
let stack: ChatStack;
let template: Template;
let tableId: string;

beforeAll(() => {
  app = newApp();
  stack = buildApp(app);
  template = Template.fromStack(stack);
  tableId = logicalId(stack, stack.table);
});

/** The integration a route key targets, and the route itself. */
function routeOf(t: Template, routeKey: string) {
  const routes = Object.values(t.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } }));
  expect(routes).toHaveLength(1);
  const [, [, integrationRef]] = routes[0].Properties.Target['Fn::Join'];
  return { route: routes[0].Properties, integration: t.toJSON().Resources[integrationRef.Ref].Properties };
}

describe('table', () => {
  test('keys, index, billing, point-in-time recovery and TTL', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'chapter_id', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'chapter_id', AttributeType: 'N' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'create_time', AttributeType: 'N' },
      ],
      LocalSecondaryIndexes: [
        {
          IndexName: 'by_create_time',
          KeySchema: [
            { AttributeName: 'chapter_id', KeyType: 'HASH' },
            { AttributeName: 'create_time', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
    });
  });

  test('is the table local runs create (same keys, index and billing)', () => {
    const local = createTableInput('unused');
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: local.KeySchema,
      AttributeDefinitions: local.AttributeDefinitions,
      LocalSecondaryIndexes: local.LocalSecondaryIndexes,
      BillingMode: local.BillingMode,
    });
  });

  test('is retained when it leaves the stack', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('functions', () => {
  test('one per route', () => {
    template.resourceCountIs('AWS::Lambda::Function', ROUTES.length);
  });

  test('run on the newest Node.js runtime aws-cdk-lib offers', () => {
    const newest = Runtime.ALL.filter((runtime) => /^nodejs\d+\.x$/.test(runtime.name))
      .map((runtime) => runtime.name)
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
      .pop();
    expect(newest).toBe('nodejs24.x');
    template.allResourcesProperties('AWS::Lambda::Function', { Runtime: newest });
  });

  test("the timeout covers two full DynamoDB call budgets and is well inside API Gateway's 30 s", () => {
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      const timeoutS: number = fn.Properties.Timeout;
      expect(timeoutS * 1000).toBeGreaterThanOrEqual(2 * DYNAMODB_CALL_BUDGET_MS);
      expect(timeoutS).toBeLessThanOrEqual(20);
    }
  });

  test.each(ROUTES)('$id: arm64, handler, timeout, memory, its own role and log group, exactly its environment', (route) => {
    const fn = stack.functions[route.id];
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: `${route.method} ${route.path}`,
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: Math.ceil((2 * DYNAMODB_CALL_BUDGET_MS) / 1000),
      Role: getAtt(logicalId(stack, fn.role as iam.Role)),
      LoggingConfig: { LogGroup: { Ref: logicalId(stack, fn.logGroup) } },
      // Exactly these: no DYNAMODB_ENDPOINT unless asked for, NODE_OPTIONS once, and identity from
      // verified tokens only (never headers by default) where the route acts for a caller.
      Environment: {
        Variables: Match.objectEquals({
          TABLE_NAME: { Ref: tableId },
          NODE_OPTIONS: '--enable-source-maps',
          ...(route.needsIdentity && { [IDENTITY_ENV.source]: 'jwt' }),
        }),
      },
    });
  });
});

describe('permissions', () => {
  /** Every statement of the IAM policies attached to a role. */
  function statementsOf(roleId: string): Array<Record<string, unknown>> {
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } });
    return Object.values(policies).flatMap((policy) => policy.Properties.PolicyDocument.Statement);
  }

  const actionsOf = (statement: Record<string, unknown>): string[] => [statement.Action as string | string[]].flat();

  test.each(ROUTES)('$id: exactly its DynamoDB actions on the table (and index), and writes to its own logs', (route) => {
    const fn = stack.functions[route.id];
    const statements = statementsOf(logicalId(stack, fn.role as iam.Role));
    expect(statements).toHaveLength(2);

    const dynamodb = statements.filter((s) => actionsOf(s).some((action) => action.startsWith('dynamodb:')));
    expect(dynamodb).toHaveLength(1);
    expect(dynamodb[0].Effect).toBe('Allow');
    expect(actionsOf(dynamodb[0]).sort()).toEqual([...route.dynamodbActions].sort());
    const indexArn = { 'Fn::Join': ['', [getAtt(tableId), '/index/by_create_time']] };
    expect(dynamodb[0].Resource).toEqual(route.queriesCreateTimeIndex ? [getAtt(tableId), indexArn] : getAtt(tableId));

    const logs = statements.filter((s) => s !== dynamodb[0]);
    expect(logs).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: getAtt(logicalId(stack, fn.logGroup)),
      },
    ]);
  });

  test('the find function may only read', () => {
    expect([...FIND.dynamodbActions].sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
  });

  test('no DynamoDB permission anywhere else', () => {
    const granted: string[] = [];
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        for (const action of actionsOf(statement).filter((a) => a.startsWith('dynamodb:') || a === '*')) {
          for (const role of policy.Properties.Roles) granted.push(`${role.Ref} ${action}`);
        }
      }
    }
    const expected = ROUTES.flatMap((route) =>
      route.dynamodbActions.map((action) => `${logicalId(stack, stack.functions[route.id].role as iam.Role)} ${action}`),
    );
    expect(granted.sort()).toEqual(expected.sort());
  });

  test('the function roles have no managed and no inline policies', () => {
    template.resourceCountIs('AWS::IAM::Role', ROUTES.length);
    template.allResourcesProperties('AWS::IAM::Role', {
      ManagedPolicyArns: Match.absent(),
      Policies: Match.absent(),
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      },
    });
  });
});

describe('HTTP API', () => {
  test('POST /message/find_group_chat integrates the find function with payload format 2.0, no authorizer', () => {
    const { route, integration } = routeOf(template, 'POST /message/find_group_chat');
    expect(route.AuthorizationType).toBe('NONE');
    expect(integration).toEqual({
      ApiId: { Ref: logicalId(stack, stack.api) },
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: getAtt(logicalId(stack, stack.functions.FindGroupChat)),
      PayloadFormatVersion: '2.0',
    });
  });

  test.each(ROUTES)('$method $path integrates $id and may invoke it', (route) => {
    const fnId = logicalId(stack, stack.functions[route.id]);
    expect(routeOf(template, `${route.method} ${route.path}`).integration).toMatchObject({
      IntegrationUri: getAtt(fnId),
      PayloadFormatVersion: '2.0',
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: getAtt(fnId),
      Principal: 'apigateway.amazonaws.com',
    });
  });

  test('only the routes of ROUTES, no catch-all and no CORS', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Route', ROUTES.length);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP', CorsConfiguration: Match.absent() });
  });

  test('the default stage logs every request as JSON to a log group, and is throttled', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: {
        DestinationArn: getAtt(logicalId(stack, stack.accessLogs)),
        Format: Match.serializedJson(
          Match.objectLike({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationRequestId: '$context.integration.requestId',
          }),
        ),
      },
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
    });
  });
});

test('every log group has a retention (one per function, one for the API)', () => {
  template.resourceCountIs('AWS::Logs::LogGroup', ROUTES.length + 1);
  template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
});

test('outputs: ApiUrl (the default stage) and TableName', () => {
  template.hasOutput('ApiUrl', {
    Value: {
      'Fn::Join': [
        '',
        ['https://', { Ref: logicalId(stack, stack.api) }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/'],
      ],
    },
  });
  template.hasOutput('TableName', { Value: { Ref: tableId } });
});

describe('cdk-nag', () => {
  test('AwsSolutions reports no unacknowledged finding', () => {
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  test('the only acknowledgements are APIG4 on routes without an authorizer, each with a reason', () => {
    const acknowledged = app.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
        .map(([id, reason]) => ({ construct, id: id.replace(/^annotation::/i, ''), reason })),
    );
    // No JWT issuer configured here, so no route has an authorizer.
    expect(acknowledged).toHaveLength(ROUTES.length);
    for (const { construct, id, reason } of acknowledged) {
      expect(id).toBe('AwsSolutions-APIG4');
      expect(construct).toBeInstanceOf(HttpRoute);
      expect(reason.trim()).not.toBe('');
    }
  });

  test('an unacknowledged finding fails synthesis', () => {
    const canaryApp = newApp(NO_BUNDLING);
    const canaryStack = buildApp(canaryApp);
    new iam.Role(canaryStack, 'Canary', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    });
    expect(() => canaryApp.synth()).toThrow(/AwsSolutions-IAM4/);
  });
});

describe('variants (context)', () => {
  test('sam local invoke: DYNAMODB_ENDPOINT everywhere, x-user-* headers where a route acts for a caller', () => {
    const endpoint = 'http://host.docker.internal:8000';
    const localStack = buildApp(newApp({ ...NO_BUNDLING, [CONTEXT.dynamodbEndpoint]: endpoint, [CONTEXT.insecureHeaderIdentity]: 'true' }));
    const local = Template.fromStack(localStack);
    // Synthesis warns that this template is not for deployment (console.error shows it).
    Annotations.fromStack(localStack).hasWarning('/GroupChat', Match.stringLikeRegexp('do not deploy'));
    Annotations.fromStack(localStack).hasWarning('/GroupChat', Match.stringLikeRegexp('anyone can act as anyone'));
    for (const route of ROUTES) {
      local.hasResourceProperties('AWS::Lambda::Function', {
        Description: `${route.method} ${route.path}`,
        Environment: {
          Variables: {
            [DYNAMODB_ENDPOINT_ENV]: endpoint,
            [IDENTITY_ENV.source]: route.needsIdentity ? 'headers' : Match.absent(),
          },
        },
      });
    }
  });

  test('with a JWT issuer, the routes that act for a caller get a JWT authorizer; find stays public', () => {
    const issuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example';
    const jwtApp = newApp({ ...NO_BUNDLING, [CONTEXT.jwtIssuer]: issuer, [CONTEXT.jwtAudience]: 'client-a, client-b' });
    const jwt = Template.fromStack(buildApp(jwtApp));
    jwt.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: issuer, Audience: ['client-a', 'client-b'] },
    });
    expect(IDENTITY_ROUTES.length).toBeGreaterThan(0);
    for (const route of IDENTITY_ROUTES) {
      expect(routeOf(jwt, `${route.method} ${route.path}`).route).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: expect.anything() });
    }
    expect(routeOf(jwt, `${FIND.method} ${FIND.path}`).route.AuthorizationType).toBe('NONE');
  });

  test('a JWT issuer and header identity exclude each other', () => {
    expect(() => new ChatStack(newApp(NO_BUNDLING), 'Both', { jwt: { issuer: 'https://issuer', audience: ['a'] }, insecureHeaderIdentity: true })).toThrow(
      /exclude each other/,
    );
  });
});

test('esbuildOptionsFor() builds byte for byte the bundle NodejsFunction deployed', async () => {
  const fnId = logicalId(stack, stack.functions[FIND.id]);
  // The code asset is staged as asset.<hash> in the cloud assembly; its S3 key is <hash>.zip.
  const s3Key: string = template.toJSON().Resources[fnId].Properties.Code.S3Key;
  const assetDir = path.join(app.outdir, `asset.${s3Key.replace(/\.zip$/, '')}`);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'esbuild-'));
  try {
    await build({ ...esbuildOptionsFor(path.join(PROJECT_ROOT, FIND.entry)), outfile: path.join(outDir, 'index.mjs'), logLevel: 'silent' });
    expect(fs.readFileSync(path.join(outDir, 'index.mjs'), 'utf8')).toBe(fs.readFileSync(path.join(assetDir, 'index.mjs'), 'utf8'));
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
});
