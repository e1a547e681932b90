/**
 * The synthesized stack, built exactly as `cdk synth` builds it: through buildApp() (so cdk-nag runs
 * and an unacknowledged finding fails the test) and with cdk.json's feature flags. The main template
 * is the production one: stage prod, a JWT authorizer from context (and no stage file: test/infra/app.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AssetStaging, CfnElement, type App, type Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { build } from 'esbuild';
import { DEADLINES, dynamoDbCallBudgetMs, ENV, NOT_ROUTED, PUSH_AUTHORIZER, PUSH_FANOUT, PUSH_ROUTES, ROUTES, TABLE } from '../../lambda/contract';
import { ACCESS_LOG_FIELDS } from '../../lib/chat-api';
import { buildApp, CONTEXT, ContextError, MISSING_AUTHORIZATION } from '../../lib/app';
import { bundleInputHash, esbuildOptionsFor } from '../../lib/bundling';
import { ChatStack, PROJECT_ROOT } from '../../lib/chat-stack';
import { STAGES } from '../../lib/stages';
import { acknowledgementsUnder } from '../support/nag';
import { ISSUER, JWT_CONTEXT, NO_BUNDLING, PROD_CONTEXT, newApp } from './app';

const logicalId = (stack: Stack, construct: IConstruct): string =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

const FIND = ROUTES.find((route) => route.id === 'FindGroupChat')!;
/** Every function: one per route and the `$default` route's. */
const FUNCTION_IDS = [...ROUTES.map((route) => route.id), NOT_ROUTED.id];
/** The push side's functions (test/infra/push.test.ts pins them). */
const PUSH_FUNCTIONS = [PUSH_AUTHORIZER, ...PUSH_ROUTES, PUSH_FANOUT];
const PUSH_IDS = PUSH_FUNCTIONS.map((fn) => fn.id);
const routeKey = (route: { method: string; path: string }) => `${route.method} ${route.path}`;
/** The app users' routes (JWT, or the open demo) and the course platform's (IAM). */
const USER_ROUTE_KEYS = ROUTES.filter((route) => route.authorization === 'user').map(routeKey);
const ADMIN_ROUTE_KEYS = ROUTES.filter((route) => route.authorization === 'iam').map(routeKey);

// One real synth (with bundling) for the whole file; the variants below skip bundling.
let app: App;
let stack: ChatStack;
let template: Template;
let tableId: string;

beforeAll(() => {
  app = newApp(PROD_CONTEXT);
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

  test('Contributor Insights on its throttled keys: a hot chapter shows by its chapter_id', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      ContributorInsightsSpecification: { Enabled: true, Mode: 'THROTTLED_KEYS' },
    });
  });

  // Local runs map the same schema to CreateTable (lambda/data/create-table.ts).
  test("maps the contract's one table schema (TABLE): keys, index and TTL", () => {
    const { partitionKey, sortKey, createTimeIndex, timeToLiveAttribute } = TABLE;
    const key = (attribute: { name: string }, keyType: 'HASH' | 'RANGE') => ({ AttributeName: attribute.name, KeyType: keyType });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [key(partitionKey, 'HASH'), key(sortKey, 'RANGE')],
      AttributeDefinitions: [partitionKey, sortKey, createTimeIndex.sortKey].map(({ name, type }) => ({ AttributeName: name, AttributeType: type })),
      LocalSecondaryIndexes: [
        {
          IndexName: createTimeIndex.name,
          KeySchema: [key(partitionKey, 'HASH'), key(createTimeIndex.sortKey, 'RANGE')],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      TimeToLiveSpecification: { AttributeName: timeToLiveAttribute, Enabled: true },
    });
  });

  test('prod: retained when it leaves the stack, and protected from deletion', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
  });
});

describe('functions', () => {
  test("one per route, and the `$default` route's (and the push functions)", () => {
    template.resourceCountIs('AWS::Lambda::Function', FUNCTION_IDS.length + PUSH_IDS.length);
    expect(Object.keys(stack.functions).sort()).toEqual([...FUNCTION_IDS].sort());
  });

  test('run on the newest Node.js runtime aws-cdk-lib offers', () => {
    const newest = Runtime.ALL.filter((runtime) => /^nodejs\d+\.x$/.test(runtime.name))
      .map((runtime) => runtime.name)
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
      .pop();
    expect(newest).toBe('nodejs24.x');
    template.allResourcesProperties('AWS::Lambda::Function', { Runtime: newest });
  });

  test("timeouts follow the routes' deadlines: a poll 4 s (deadline 3 s), a write 16 s (two whole 7.5 s DynamoDB calls), well inside API Gateway's 30 s", () => {
    // A poll's attempts all fit in its deadline but for the backoff after throttling (≤ 1 s, then ≤ 2 s).
    const { maxAttempts, requestTimeoutMs } = DEADLINES.poll.dynamodb;
    expect(maxAttempts * requestTimeoutMs + 200).toBeLessThanOrEqual(DEADLINES.poll.deadlineMs);
    expect(dynamoDbCallBudgetMs(DEADLINES.poll.dynamodb)).toBe(5400);
    expect(DEADLINES.poll.deadlineMs).toBe(3000);
    expect(DEADLINES.write.deadlineMs).toBe(2 * dynamoDbCallBudgetMs(DEADLINES.write.dynamodb));
    expect(DEADLINES.write.deadlineMs).toBe(15_000);
    expect(ROUTES.filter((route) => route.deadline !== DEADLINES.write).map((route) => route.id)).toEqual([FIND.id]);
    const timeouts = Object.fromEntries(FUNCTION_IDS.map((id) => [id, template.toJSON().Resources[logicalId(stack, stack.functions[id])].Properties.Timeout]));
    expect(timeouts).toEqual({
      FindGroupChat: 4,
      SendGroupChat: 16,
      JoinGroupChat: 16,
      LeaveGroupChat: 16,
      AdminAddMembers: 16,
      AdminRemoveMembers: 16,
      NotRouted: 4,
    });
  });

  test.each(FUNCTION_IDS)('%s: arm64, handler, timeout, memory, its own role and log group, identity from tokens', (id) => {
    const fn = stack.functions[id];
    const route = ROUTES.find((r) => r.id === id);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: route ? `${route.method} ${route.path}` : Match.stringLikeRegexp('no route matched'),
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: Math.ceil(((route ?? NOT_ROUTED).deadline.deadlineMs + 500) / 1000),
      Role: getAtt(logicalId(stack, fn.role as iam.Role)),
      LoggingConfig: { LogGroup: { Ref: logicalId(stack, fn.logGroup) } },
      // No DYNAMODB_ENDPOINT unless asked for, the table only where a route uses it, and identity
      // from verified tokens only (never headers unless an open demo is asked for).
      Environment: {
        Variables: Match.objectLike({
          TABLE_NAME: route ? { Ref: tableId } : Match.absent(),
          NODE_OPTIONS: '--enable-source-maps',
          [ENV.identitySource]: 'jwt',
          // prod: the course platform decides who is a member.
          [ENV.membership]: 'managed',
          [ENV.dynamodbEndpoint]: Match.absent(),
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

  const indexArn = () => ({ 'Fn::Join': ['', [getAtt(tableId), '/index/by_create_time']] });

  test.each(ROUTES)('$id: exactly its DynamoDB actions on the table, only Query on the index it queries, and writes to its own logs', (route) => {
    const fn = stack.functions[route.id];
    const statements = statementsOf(logicalId(stack, fn.role as iam.Role));

    const dynamodb = statements
      .filter((s) => actionsOf(s).some((action) => action.startsWith('dynamodb:')))
      .map((s) => ({ effect: s.Effect, actions: actionsOf(s).sort(), resource: s.Resource }));
    expect(dynamodb).toEqual([
      { effect: 'Allow', actions: [...route.dynamodbActions].sort(), resource: getAtt(tableId) },
      // An index takes Query (and Scan) only: GetItem or BatchGetItem on its ARN would do nothing.
      ...(route.queriesCreateTimeIndex ? [{ effect: 'Allow', actions: ['dynamodb:Query'], resource: indexArn() }] : []),
    ]);
    expect(route.queriesCreateTimeIndex).toBe(route.id === FIND.id);

    expect(statements.filter((s) => actionsOf(s).some((action) => action.startsWith('logs:')))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: getAtt(logicalId(stack, fn.logGroup)),
      },
    ]);
    // Nothing else but tracing.
    expect(statements.flatMap(actionsOf).filter((a) => !/^(dynamodb|logs|xray):/.test(a))).toEqual([]);
  });

  test("the `$default` route's function touches no data", () => {
    const statements = statementsOf(logicalId(stack, stack.functions[NOT_ROUTED.id].role as iam.Role));
    expect(statements.flatMap(actionsOf).filter((a) => !/^(logs|xray):/.test(a))).toEqual([]);
  });

  test('the admin routes: exactly the actions of their transactions and the count read, nothing more', () => {
    const actionsOfRoute = (id: string) => [...ROUTES.find((route) => route.id === id)!.dynamodbActions].sort();
    expect(actionsOfRoute('AdminAddMembers')).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(actionsOfRoute('AdminRemoveMembers')).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem']);
    for (const id of ['AdminAddMembers', 'AdminRemoveMembers']) {
      const statements = statementsOf(logicalId(stack, stack.functions[id].role as iam.Role));
      expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(actionsOfRoute(id));
    }
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
    const expected = ROUTES.flatMap((route) => {
      const role = logicalId(stack, stack.functions[route.id].role as iam.Role);
      return [...route.dynamodbActions, ...(route.queriesCreateTimeIndex ? ['dynamodb:Query'] : [])].map((action) => `${role} ${action}`);
    });
    for (const fn of PUSH_FUNCTIONS) {
      const role = logicalId(stack, stack.push.functions[fn.id].role as iam.Role);
      // The fan-out's stream mapping reads the stream with the fan-out's role.
      const streamReads = fn.id === PUSH_FANOUT.id ? ['dynamodb:ListStreams', 'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'] : [];
      expected.push(...[...fn.dynamodbActions, ...streamReads].map((action) => `${role} ${action}`));
    }
    expect(granted.sort()).toEqual(expected.sort());
  });

  test('one role per function and, on prod, CodeDeploy\'s; none has a managed or an inline policy', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    const services = roles.map((role) => role.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service).sort();
    expect(services).toEqual(['codedeploy.amazonaws.com', ...[...FUNCTION_IDS, ...PUSH_IDS].map(() => 'lambda.amazonaws.com')]);
    for (const role of roles) {
      expect([role.Properties.ManagedPolicyArns, role.Properties.Policies]).toEqual([undefined, undefined]);
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toHaveLength(1);
    }
  });
});

describe('HTTP API', () => {
  /** The `live` alias of a function: what its route's integration targets. */
  const aliasRef = (id: string) => ({ Ref: logicalId(stack, stack.functions[id].live) });

  test('POST /message/find_group_chat integrates the find function\'s live alias with payload format 2.0', () => {
    const { integration } = routeOf(template, 'POST /message/find_group_chat');
    expect(integration).toEqual({
      ApiId: { Ref: logicalId(stack, stack.api) },
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: aliasRef('FindGroupChat'),
      PayloadFormatVersion: '2.0',
    });
  });

  test.each(ROUTES)('$method $path integrates the live alias of $id, may invoke that alias only, and waits for the permission', (route) => {
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration', { Properties: { IntegrationUri: aliasRef(route.id) } });
    expect(Object.values(integrations)).toHaveLength(1);
    expect(routeOf(template, `${route.method} ${route.path}`).integration).toMatchObject({ IntegrationUri: aliasRef(route.id), PayloadFormatVersion: '2.0' });
    const permissions = template.findResources('AWS::Lambda::Permission', {
      Properties: { Action: 'lambda:InvokeFunction', FunctionName: aliasRef(route.id), Principal: 'apigateway.amazonaws.com' },
    });
    expect(Object.keys(permissions)).toHaveLength(1);
    // Nothing lets API Gateway invoke the function unqualified ($LATEST): only the released version runs.
    template.resourcePropertiesCountIs('AWS::Lambda::Permission', { FunctionName: getAtt(logicalId(stack, stack.functions[route.id])) }, 0);
    expect(Object.values(integrations)[0].DependsOn).toEqual(Object.keys(permissions));
  });

  test("every request no route matches goes to our `$default` route's function (404/405 envelopes)", () => {
    template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Route', { ApiId: { Ref: logicalId(stack, stack.api) } }, ROUTES.length + 1);
    expect(routeOf(template, '$default').integration).toMatchObject({
      IntegrationUri: aliasRef(NOT_ROUTED.id),
      PayloadFormatVersion: '2.0',
    });
  });

  test('the JWT authorizer from context guards every user route, `$default` included', () => {
    template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Authorizer', { ApiId: { Ref: logicalId(stack, stack.api) } }, 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: ISSUER, Audience: ['client-a', 'client-b'] },
    });
    const authorizerId = { Ref: Object.keys(template.findResources('AWS::ApiGatewayV2::Authorizer', { Properties: { AuthorizerType: 'JWT' } }))[0] };
    expect(USER_ROUTE_KEYS).toEqual(['POST /message/find_group_chat', 'POST /message/send_group_chat', 'POST /message/join_group_chat', 'POST /message/leave_group_chat']);
    for (const key of [...USER_ROUTE_KEYS, '$default']) {
      expect(routeOf(template, key).route).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: authorizerId });
    }
  });

  test('the admin routes take IAM authorization (SigV4), never a user token', () => {
    expect(ADMIN_ROUTE_KEYS).toEqual(['POST /admin/add_members', 'POST /admin/remove_members']);
    for (const key of ADMIN_ROUTE_KEYS) {
      const { route } = routeOf(template, key);
      expect(route.AuthorizationType).toBe('AWS_IAM');
      expect(route.AuthorizerId).toBeUndefined();
      expect(route.AuthorizationScopes).toBeUndefined();
    }
  });

  test('CORS is off unless origins are configured', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP', CorsConfiguration: Match.absent() });
  });

  test('the default stage logs every request as JSON to a log group, and is throttled', () => {
    template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Stage', { ApiId: { Ref: logicalId(stack, stack.api) } }, 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: {
        DestinationArn: getAtt(logicalId(stack, stack.api.accessLogs)),
        Format: Match.serializedJson(ACCESS_LOG_FIELDS),
      },
      DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000, DetailedMetricsEnabled: true },
    });
  });

  test('the access log keeps what the runbook uses, and nothing that identifies a person', () => {
    // docs/operations.md: requests are tied to the function's lines by the ids, grouped by route,
    // status and integration error, and timed; no source IP, no user agent, no user.
    expect(ACCESS_LOG_FIELDS).toEqual({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      latency: '$context.responseLatency',
      integrationLatency: '$context.integrationLatency',
      integrationRequestId: '$context.integration.requestId',
      integrationError: '$context.integrationErrorMessage',
      // Why a request was refused or failed around the function: the authorizer's reason (a 401), the gateway's own message.
      authorizerError: '$context.authorizer.error',
      errorMessage: '$context.error.message',
    });
    const format = Object.values(template.findResources('AWS::ApiGatewayV2::Stage', { Properties: { StageName: '$default' } }))[0].Properties.AccessLogSettings.Format as string;
    // The authorizer's error only, never its claims (the user).
    expect(format.replaceAll('$context.authorizer.error', '')).not.toMatch(/sourceIp|userAgent|\$context\.identity|\$context\.authorizer/);
  });
});

test("prod: every log group keeps the stage's retention (one per function, one for each API) and outlives the stack", () => {
  template.resourceCountIs('AWS::Logs::LogGroup', FUNCTION_IDS.length + 1 + PUSH_IDS.length + 1);
  template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  template.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
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

test("output AdminRouteArns: the admin routes' execute-api ARNs, for the course platform's IAM policy", () => {
  // arn:<partition>:execute-api:<region>:<account>:<api id>/<any stage>/POST/<path>, comma-separated
  // (CloudFormation's join merges the adjacent literal pieces).
  const [partition, region, account, api] = [{ Ref: 'AWS::Partition' }, { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, { Ref: logicalId(stack, stack.api) }];
  template.hasOutput('AdminRouteArns', {
    Value: {
      'Fn::Join': [
        '',
        [
          'arn:', partition, ':execute-api:', region, ':', account, ':', api, '/*/POST/admin/add_members,' +
          'arn:', partition, ':execute-api:', region, ':', account, ':', api, '/*/POST/admin/remove_members',
        ],
      ],
    },
  });
});

describe('cdk-nag', () => {
  test('AwsSolutions and Serverless report no unacknowledged finding', () => {
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
    expect(new ServerlessChecks().validateScope(app).violations).toEqual([]);
  });

  test('prod acknowledges only findings that do not apply, each with its reason', () => {
    const acknowledged = acknowledgementsUnder(app);
    for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(40);
    // A dead-letter queue catches failed asynchronous invocations; API Gateway invokes synchronously.
    expect(acknowledged.filter((a) => a.id === 'Serverless-LambdaDLQ').map((a) => a.path).sort()).toEqual(
      [...FUNCTION_IDS.map((id) => `${stack.stackName}/${id}`), ...PUSH_IDS.map((id) => `${stack.stackName}/Push/${id}`)].sort(),
    );
    // With an authorizer on every route, no HTTP route is open (a WebSocket API authorizes $connect only: push.test.ts).
    expect(acknowledged.filter((a) => a.id === 'AwsSolutions-APIG4' && !a.path.startsWith(`${stack.stackName}/Push/`))).toEqual([]);
  });

  test('an unacknowledged finding fails synthesis', () => {
    const canaryApp = newApp({ ...NO_BUNDLING, ...JWT_CONTEXT });
    const canaryStack = buildApp(canaryApp);
    new iam.Role(canaryStack, 'Canary', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    });
    expect(() => canaryApp.synth()).toThrow(/AwsSolutions-IAM4/);
  });
});

describe('authorization from context', () => {
  test('synthesis refuses without a JWT authorizer or an explicit open demo', () => {
    expect(() => buildApp(newApp(NO_BUNDLING))).toThrow(MISSING_AUTHORIZATION);
    expect(() => buildApp(newApp({ ...NO_BUNDLING, [CONTEXT.openDemo]: 'false' }))).toThrow(MISSING_AUTHORIZATION);
    expect(() => buildApp(newApp({ ...NO_BUNDLING, [CONTEXT.jwtIssuer]: ISSUER }))).toThrow(/jwtAudience/);
    expect(() => buildApp(newApp({ ...NO_BUNDLING, [CONTEXT.jwtIssuer]: 'http://plain', [CONTEXT.jwtAudience]: 'a' }))).toThrow(/https/);
    expect(() => buildApp(newApp({ ...NO_BUNDLING, ...JWT_CONTEXT, [CONTEXT.openDemo]: 'true' }))).toThrow(/exclude each other/);
  });


  test('required scopes and claim names from context', () => {
    const scoped = Template.fromStack(
      buildApp(
        newApp({
          ...NO_BUNDLING,
          ...JWT_CONTEXT,
          [CONTEXT.jwtScopes]: 'chat/read, chat/write',
          [CONTEXT.jwtClaimUserId]: 'custom:user_id',
          [CONTEXT.jwtClaimUserName]: 'nickname',
        }),
      ),
    );
    for (const key of [...USER_ROUTE_KEYS, '$default']) {
      expect(routeOf(scoped, key).route).toMatchObject({ AuthorizationType: 'JWT', AuthorizationScopes: ['chat/read', 'chat/write'] });
    }
    // Token scopes mean nothing to IAM: the admin routes carry none.
    for (const key of ADMIN_ROUTE_KEYS) {
      const { route } = routeOf(scoped, key);
      expect([route.AuthorizationType, route.AuthorizationScopes]).toEqual(['AWS_IAM', undefined]);
    }
    scoped.allResourcesProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.userIdClaim]: 'custom:user_id',
          [ENV.userNameClaim]: 'nickname',
          [ENV.userTypeClaim]: Match.absent(),
        }),
      },
    });
  });

  test('an explicit open demo: no authorizer, x-user-* headers trusted, a warning, and APIG4 acknowledged with why', () => {
    const demoApp = newApp({ ...NO_BUNDLING, [CONTEXT.openDemo]: 'true' });
    const demoStack = buildApp(demoApp);
    const demo = Template.fromStack(demoStack);
    // The HTTP API's (push's $connect keeps its authorizer, reading the user_id query string: push.test.ts).
    demo.resourcePropertiesCountIs('AWS::ApiGatewayV2::Authorizer', { ApiId: { Ref: logicalId(demoStack, demoStack.api) } }, 0);
    for (const key of [...USER_ROUTE_KEYS, '$default']) expect(routeOf(demo, key).route.AuthorizationType).toBe('NONE');
    // Even an open demo keeps the admin routes to IAM principals.
    for (const key of ADMIN_ROUTE_KEYS) expect(routeOf(demo, key).route.AuthorizationType).toBe('AWS_IAM');
    demo.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.identitySource]: 'headers' }) },
    });
    Annotations.fromStack(demoStack).hasWarning(`/${demoStack.stackName}`, Match.stringLikeRegexp('anyone can act as anyone'));
    const apig4 = acknowledgementsUnder(demoApp).filter((a) => a.id === 'AwsSolutions-APIG4' && !a.path.startsWith(`${demoStack.stackName}/Push/`));
    expect(apig4).toEqual([{ path: `${demoStack.stackName}/Api`, id: 'AwsSolutions-APIG4', reason: expect.stringMatching(/open demo/) }]);
    expect(new AwsSolutionsChecks().validateScope(demoApp).violations).toEqual([]);
  });
});

describe('alarms and dashboard (lib/monitoring.ts; its own tests pin each alarm)', () => {
  test('every function, the API and the table are watched; alarms notify one topic; one dashboard', () => {
    const alarmNames = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName as string);
    const expected = [
      ...[...FUNCTION_IDS, ...PUSH_IDS].flatMap((id) => [`${id}Errors`, `${id}Throttles`, `${id}P99Duration`]),
      // lib/monitoring/push-alarms.ts (test/infra/push.test.ts)
      'PushFanoutIteratorAge',
      'PushFanoutFailedBatches',
      'PushApiExecutionErrors',
      'PushApiIntegrationErrors',
      'Api5xxRate',
      'Api4xxRate',
      ...ROUTES.map((route) => `${route.id}Route5xxRate`),
      'Answered503',
      'Answered500',
      'DynamoDBThrottles',
      'DynamoDBSystemErrors',
      // prod releases by canary: what rolls a release back (test/infra/release.test.ts)
      ...FUNCTION_IDS.map((id) => `${id}CanaryErrors`),
      'CanaryApi5xxRate',
    ].map((signal) => `GroupChat-prod-${signal}`);
    expect(alarmNames.sort()).toEqual(expected.sort());
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: logicalId(stack, stack.monitoring.topic) }],
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: { 'Fn::Join': ['', ['GroupChat-prod-', { Ref: 'AWS::Region' }]] } });
    template.hasOutput('AlarmTopicArn', { Value: { Ref: logicalId(stack, stack.monitoring.topic) } });
  });

  test('alarmEmail from context subscribes that address to the topic', () => {
    const mailed = Template.fromStack(buildApp(newApp({ ...NO_BUNDLING, ...JWT_CONTEXT, [CONTEXT.alarmEmail]: 'ops@example.com' })));
    mailed.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });
});

describe('membership: managed or self', () => {
  /** The MEMBERSHIP every function of the app built from `context` is given. */
  const membershipOf = (context: Record<string, unknown>): string[] => {
    const functions = Template.fromStack(buildApp(newApp({ ...NO_BUNDLING, ...context }))).findResources('AWS::Lambda::Function');
    return [...new Set(Object.values(functions).map((fn) => fn.Properties.Environment.Variables[ENV.membership]))];
  };

  test('per stage: prod managed, dev self, an open demo self (whatever the stage)', () => {
    expect(STAGES.prod.membership).toBe('managed');
    expect(STAGES.dev.membership).toBe('self');
    expect(membershipOf(PROD_CONTEXT)).toEqual(['managed']);
    expect(membershipOf(JWT_CONTEXT)).toEqual(['self']);
    expect(membershipOf({ [CONTEXT.openDemo]: 'true' })).toEqual(['self']);
    expect(membershipOf({ [CONTEXT.stage]: 'prod', [CONTEXT.openDemo]: 'true' })).toEqual(['self']);
  });

  test('context overrides the stage; anything but managed or self is refused in one line', () => {
    expect(membershipOf({ ...PROD_CONTEXT, [CONTEXT.membership]: 'self' })).toEqual(['self']);
    expect(membershipOf({ ...JWT_CONTEXT, [CONTEXT.membership]: 'managed' })).toEqual(['managed']);
    expect(membershipOf({ [CONTEXT.openDemo]: 'true', [CONTEXT.membership]: 'managed' })).toEqual(['managed']);
    expect(() => buildApp(newApp({ ...NO_BUNDLING, ...JWT_CONTEXT, [CONTEXT.membership]: 'open' }))).toThrow(
      new ContextError('membership must be managed or self, got "open"'),
    );
  });

  test('the admin routes are IAM-authorized in every stage and mode', () => {
    for (const context of [JWT_CONTEXT, { ...JWT_CONTEXT, [CONTEXT.membership]: 'managed' }, { [CONTEXT.openDemo]: 'true' }]) {
      const t = Template.fromStack(buildApp(newApp({ ...NO_BUNDLING, ...context })));
      for (const key of ADMIN_ROUTE_KEYS) expect(routeOf(t, key).route.AuthorizationType).toBe('AWS_IAM');
    }
  });
});

describe('stages and other context', () => {
  test('one stack per stage, named after it; an unknown stage is refused', () => {
    expect(stack.stackName).toBe('GroupChat-prod');
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { Name: 'GroupChat-prod' });
    expect(buildApp(newApp({ ...NO_BUNDLING, ...JWT_CONTEXT })).stackName).toBe('GroupChat-dev');
    expect(() => buildApp(newApp({ ...NO_BUNDLING, ...JWT_CONTEXT, [CONTEXT.stage]: 'qa' }))).toThrow(/unknown stage "qa"/);
  });

  test('dev (the default): the table and the logs go with the stack, short log retention, low throttles', () => {
    const dev = Template.fromStack(buildApp(newApp({ ...NO_BUNDLING, ...JWT_CONTEXT })));
    dev.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    dev.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    dev.resourceCountIs('AWS::Logs::LogGroup', FUNCTION_IDS.length + 1 + PUSH_IDS.length + 1);
    dev.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    dev.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: STAGES.dev.throttle.rateLimit, ThrottlingBurstLimit: STAGES.dev.throttle.burstLimit },
    });
  });

  test('throttles from context override the stage; nonsense is refused', () => {
    // Three times the rate takes three times the reserved concurrency: an account with the quota for it (lib/concurrency.ts).
    const tuned = Template.fromStack(
      buildApp(newApp({ ...NO_BUNDLING, ...PROD_CONTEXT, [CONTEXT.throttleRate]: '3000', [CONTEXT.throttleBurst]: '5000', [CONTEXT.accountConcurrency]: '16000' })),
    );
    tuned.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 3000, ThrottlingBurstLimit: 5000 } });
    expect(() => buildApp(newApp({ ...NO_BUNDLING, ...JWT_CONTEXT, [CONTEXT.throttleRate]: '-1' }))).toThrow(/throttleRate/);
  });

  test('CORS only for the configured origins, and only POST', () => {
    const cors = Template.fromStack(buildApp(newApp({ ...NO_BUNDLING, ...JWT_CONTEXT, [CONTEXT.corsOrigins]: 'https://app.example.com' })));
    cors.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowOrigins: ['https://app.example.com'], AllowMethods: ['POST'] }),
    });
  });

  test('sam local invoke: DYNAMODB_ENDPOINT in every function, and a warning not to deploy', () => {
    const endpoint = 'http://host.docker.internal:8000';
    const localStack = buildApp(newApp({ ...NO_BUNDLING, [CONTEXT.dynamodbEndpoint]: endpoint, [CONTEXT.openDemo]: 'true' }));
    Template.fromStack(localStack).allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.dynamodbEndpoint]: endpoint }) },
    });
    Annotations.fromStack(localStack).hasWarning(`/${localStack.stackName}`, Match.stringLikeRegexp('do not deploy'));
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

describe('names that survive a second region and a second stack', () => {
  /** Properties that would give a resource a fixed name: a second stack or region would collide on it. */
  const FIXED_NAMES: Record<string, string> = {
    'AWS::Lambda::Function': 'FunctionName',
    'AWS::IAM::Role': 'RoleName',
    'AWS::IAM::Policy': 'Unused', // inline policies are per role
    'AWS::DynamoDB::Table': 'TableName',
    'AWS::Logs::LogGroup': 'LogGroupName',
    'AWS::SNS::Topic': 'TopicName',
    'AWS::CodeDeploy::Application': 'ApplicationName',
    'AWS::CodeDeploy::DeploymentGroup': 'DeploymentGroupName',
    'AWS::Lambda::Version': 'Unused',
  };

  test('nothing is named by hand but alarms (per region, prefixed with the stack) and the dashboard (per account, with the region)', () => {
    for (const resource of Object.values(template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>)) {
      const nameProperty = FIXED_NAMES[resource.Type];
      if (nameProperty) expect([resource.Type, resource.Properties?.[nameProperty]]).toEqual([resource.Type, undefined]);
    }
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmName).toMatch(new RegExp(`^${stack.stackName}-`));
    }
  });

  test('the same stage in two regions: the dashboard names differ; two stacks in one region: the alarm names differ', () => {
    // The stack is environment-agnostic: CloudFormation puts in the region it is deployed to.
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: { 'Fn::Join': ['', [`${stack.stackName}-`, { Ref: 'AWS::Region' }]] } });
    const devAlarms = Object.values(Template.fromStack(buildApp(newApp({ ...NO_BUNDLING, ...JWT_CONTEXT }))).findResources('AWS::CloudWatch::Alarm'));
    const prodAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    const names = (alarms: typeof devAlarms) => new Set(alarms.map((a) => a.Properties.AlarmName as string));
    expect([...names(devAlarms)].filter((name) => names(prodAlarms).has(name))).toEqual([]);
  });
});

describe('synth bundles only what changed', () => {
  test("a function's asset is named by its inputs: the files its entry imports, tsconfig.json, package-lock.json", () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'inputs-'));
    const write = (file: string, text: string) => fs.writeFileSync(path.join(project, file), text);
    try {
      write('package-lock.json', '{}');
      write('tsconfig.json', '{}');
      write('entry.ts', "import { a } from './a'; import { x } from 'some-package'; export const handler = () => a + x;");
      write('a.ts', 'export const a = 1;');
      write('unrelated.ts', 'export const b = 1;');
      const hash = () => bundleInputHash(path.join(project, 'entry.ts'), project);
      const first = hash();
      expect(hash()).toBe(first);
      write('unrelated.ts', 'export const b = 2;');
      expect(hash()).toBe(first);
      write('a.ts', 'export const a = 2;');
      const second = hash();
      expect(second).not.toBe(first);
      write('package-lock.json', '{"lockfileVersion": 3}');
      expect(hash()).not.toBe(second);
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });

  test('each function has its own inputs: the `$default` route\'s do not include the data layer', () => {
    const hash = (entry: string) => bundleInputHash(path.join(PROJECT_ROOT, entry), PROJECT_ROOT);
    expect(new Set([...ROUTES.map((route) => hash(route.entry)), hash(NOT_ROUTED.entry)]).size).toBe(FUNCTION_IDS.length);
  });

  test('a second synth into the same cdk.out bundles nothing', () => {
    // The first synth (beforeAll) bundled every function into app.outdir. Forget what this process
    // remembers of it, as a new `cdk synth` process would, and synthesize again into that folder.
    AssetStaging.clearAssetHashCache();
    const writes: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      const again = buildApp(newApp(PROD_CONTEXT, app.outdir));
      expect(Template.fromStack(again).toJSON().Resources[logicalId(again, again.functions[FIND.id])].Properties.Code).toEqual(
        template.toJSON().Resources[logicalId(stack, stack.functions[FIND.id])].Properties.Code,
      );
    } finally {
      spy.mockRestore();
    }
    expect(writes.filter((line) => line.includes('Bundling asset'))).toEqual([]);
  });
});
