/**
 * The push side of the stack (lib/push.ts, lib/monitoring/push-alarms.ts), pinned on the template
 * `cdk synth` builds (buildApp: cdk-nag on, cdk.json's flags), against the push contract
 * (lambda/contract/push.ts): the table's stream, the WebSocket API and its authorizer, each push
 * function's code path, permissions and environment, the stream's event source mapping and its
 * on-failure queue, the stage, the output, the alarms and the dashboard row. Prod with a JWT issuer
 * unless a test says otherwise; code assets are not bundled (test/infra/stack.test.ts bundles).
 */
import { CfnElement, type App, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import {
  DEADLINES,
  ENV,
  LOCAL_PUSH_PATH,
  PUSH_AUTHORIZER,
  PONG_FRAME,
  PUSH_FANOUT,
  PUSH_MOCK_ROUTES,
  PUSH_PING_ROUTE,
  PUSH_ROUTE_SELECTION_EXPRESSION,
  PUSH_ROUTES,
  PUSH_STREAM,
  TABLE,
  type PushFunctionSpec,
} from '../../lambda/contract';
import { buildApp, CONTEXT } from '../../lib/app';
import type { ChatStack } from '../../lib/chat-stack';
import { MAX_INTEGRATION_ERRORS, MAX_ITERATOR_AGE } from '../../lib/monitoring/push-alarms';
import { FAILURE_RETENTION, PUSH_ACCESS_LOG_FIELDS, PUSH_STAGE_NAME } from '../../lib/push';
import { STAGES } from '../../lib/stages';
import { acknowledgementsUnder } from '../support/nag';
import { ISSUER, JWT_CONTEXT, NO_BUNDLING, PROD_CONTEXT, newApp } from './app';

const logicalId = (stack: Stack, construct: IConstruct): string => stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const PUSH_FUNCTIONS: readonly PushFunctionSpec[] = [PUSH_AUTHORIZER, ...PUSH_ROUTES, PUSH_FANOUT];
const PUSH_IDS = PUSH_FUNCTIONS.map((spec) => spec.id);

interface Built {
  app: App;
  stack: ChatStack;
  template: Template;
  /** A logical id of the stack. */
  id: (construct: IConstruct) => string;
}

function build(context: Record<string, unknown>): Built {
  const app = newApp({ ...NO_BUNDLING, ...context });
  const stack = buildApp(app);
  return { app, stack, template: Template.fromStack(stack), id: (construct) => logicalId(stack, construct) };
}

let prod: Built;
let pushApiId: string;
let tableId: string;
const aliasRef = (built: Built, functionId: string) => ({ Ref: built.id(built.stack.push.functions[functionId].live) });

beforeAll(() => {
  prod = build(PROD_CONTEXT);
  pushApiId = prod.id(prod.stack.push.api);
  tableId = prod.id(prod.stack.table);
});

/** The resources of `type` whose properties contain these. */
const resources = (t: Template, type: string, properties: Record<string, unknown> = {}) => Object.entries(t.findResources(type, { Properties: properties }));

/** Every statement of the IAM policies attached to a function's role. */
function statementsOf(built: Built, functionId: string): Array<Record<string, any>> {
  const roleId = built.id(built.stack.push.functions[functionId].role as iam.Role);
  return resources(built.template, 'AWS::IAM::Policy', { Roles: Match.arrayWith([{ Ref: roleId }]) }).flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
}
const actionsOf = (statement: Record<string, unknown>): string[] => [statement.Action as string | string[]].flat();

describe('table', () => {
  test("streams the contract's view (TABLE.streamViewType): new images", () => {
    expect(TABLE.streamViewType).toBe('NEW_IMAGE');
    prod.template.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: TABLE.streamViewType } });
  });
});

describe('WebSocket API', () => {
  const pushRoutes = (built: Built) => resources(built.template, 'AWS::ApiGatewayV2::Route', { ApiId: { Ref: built.id(built.stack.push.api) } });
  const routeOf = (built: Built, routeKey: string) => {
    const found = pushRoutes(built).filter(([, route]) => route.Properties.RouteKey === routeKey);
    expect(found).toHaveLength(1);
    const [routeId, route] = found[0];
    const [, [, integrationRef]] = route.Properties.Target['Fn::Join'];
    const integration = built.template.toJSON().Resources[integrationRef.Ref];
    return { routeId, route: route.Properties, integrationId: integrationRef.Ref as string, integration };
  };

  test('a WebSocket API, named after the stack, routing on the frame\'s action', () => {
    prod.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      Name: 'GroupChat-prod-push',
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: PUSH_ROUTE_SELECTION_EXPRESSION,
    });
    expect(PUSH_ROUTE_SELECTION_EXPRESSION).toBe('$request.body.action');
  });

  test('exactly the contract\'s routes: $connect, $disconnect (functions), ping (mock)', () => {
    expect(pushRoutes(prod).map(([, route]) => route.Properties.RouteKey).sort()).toEqual([...PUSH_ROUTES, ...PUSH_MOCK_ROUTES].map((route) => route.routeKey).sort());
    expect(PUSH_ROUTES.map((route) => route.routeKey)).toEqual(['$connect', '$disconnect']);
    expect(PUSH_MOCK_ROUTES.map((route) => route.routeKey)).toEqual(['ping']);
  });

  test.each(PUSH_ROUTES)('$routeKey: the live alias of $id (Lambda proxy), invocable by API Gateway on that alias only, after the permission exists', (spec) => {
    const { integration, integrationId } = routeOf(prod, spec.routeKey);
    expect(integration.Properties).toEqual({
      ApiId: { Ref: pushApiId },
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:', { Ref: 'AWS::Region' }, ':lambda:path/2015-03-31/functions/', aliasRef(prod, spec.id), '/invocations']] },
    });
    const permissions = resources(prod.template, 'AWS::Lambda::Permission', { FunctionName: aliasRef(prod, spec.id), Principal: 'apigateway.amazonaws.com' });
    expect(permissions).toHaveLength(1);
    expect(JSON.stringify(permissions[0][1].Properties.SourceArn)).toContain(`/*${spec.routeKey}`);
    // Nothing lets API Gateway invoke the function unqualified ($LATEST).
    prod.template.resourcePropertiesCountIs('AWS::Lambda::Permission', { FunctionName: getAtt(prod.id(prod.stack.push.functions[spec.id])) }, 0);
    expect(prod.template.toJSON().Resources[integrationId].DependsOn).toEqual([permissions[0][0]]);
  });

  test('ping: a MOCK integration, no function behind it, that answers the pong (integration response $default, sent back by the route response $default)', () => {
    const { routeId, route, integrationId, integration } = routeOf(prod, PUSH_PING_ROUTE.routeKey);
    expect(integration.Properties).toEqual({
      ApiId: { Ref: pushApiId },
      IntegrationType: 'MOCK',
      IntegrationUri: '',
      RequestTemplates: { $default: '{"statusCode":200}' },
      TemplateSelectionExpression: '\\$default',
    });
    // Nothing to wait for: no function, no permission.
    expect(prod.template.toJSON().Resources[integrationId].DependsOn).toBeUndefined();
    const answers = resources(prod.template, 'AWS::ApiGatewayV2::IntegrationResponse', { ApiId: { Ref: pushApiId } });
    expect(answers.map(([, answer]) => answer.Properties)).toEqual([
      { ApiId: { Ref: pushApiId }, IntegrationId: { Ref: integrationId }, IntegrationResponseKey: '$default', ResponseTemplates: { $default: '{"type":"pong"}' } },
    ]);
    expect(PUSH_PING_ROUTE.response).toBe(PONG_FRAME);
    expect(JSON.parse(PONG_FRAME)).toEqual({ type: 'pong' });
    // Two-way: the route response $default returns the integration's answer to the client.
    expect(route.RouteResponseSelectionExpression).toBe('$default');
    const responses = resources(prod.template, 'AWS::ApiGatewayV2::RouteResponse', { RouteId: { Ref: routeId } });
    expect(responses.map(([, r]) => r.Properties)).toEqual([{ ApiId: { Ref: pushApiId }, RouteId: { Ref: routeId }, RouteResponseKey: '$default' }]);
  });

  test('API Gateway may invoke the authorizer and the function routes, nothing for ping', () => {
    const permissions = resources(prod.template, 'AWS::Lambda::Permission', { Principal: 'apigateway.amazonaws.com' }).filter(([, p]) =>
      JSON.stringify(p.Properties.SourceArn).includes(`{"Ref":"${pushApiId}"}`),
    );
    expect(permissions.map(([, p]) => p.Properties.FunctionName).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      [PUSH_AUTHORIZER, ...PUSH_ROUTES].map((spec) => aliasRef(prod, spec.id)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    for (const [, p] of permissions) expect(JSON.stringify(p.Properties.SourceArn)).not.toContain(PUSH_PING_ROUTE.routeKey);
  });

  test('$connect alone goes through the REQUEST authorizer; the other routes run on the connection it admitted', () => {
    const authorizers = resources(prod.template, 'AWS::ApiGatewayV2::Authorizer', { ApiId: { Ref: pushApiId } });
    expect(authorizers).toHaveLength(1);
    for (const spec of PUSH_ROUTES) {
      const { route } = routeOf(prod, spec.routeKey);
      expect(spec.authorized).toBe(spec.routeKey === '$connect');
      expect([route.AuthorizationType, route.AuthorizerId]).toEqual(spec.authorized ? ['CUSTOM', { Ref: authorizers[0][0] }] : ['NONE', undefined]);
    }
    for (const spec of PUSH_MOCK_ROUTES) {
      const { route } = routeOf(prod, spec.routeKey);
      expect([spec.routeKey, route.AuthorizationType, route.AuthorizerId]).toEqual([spec.routeKey, 'NONE', undefined]);
    }
  });

  test('the authorizer: the live alias of PushAuthorize, on the token and chapters query strings (JWT mode); invocable on that alias only', () => {
    const [[authorizerId, authorizer]] = resources(prod.template, 'AWS::ApiGatewayV2::Authorizer', { ApiId: { Ref: pushApiId } });
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      IdentitySource: [...PUSH_AUTHORIZER.identitySource.jwt],
      AuthorizerUri: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:', { Ref: 'AWS::Region' }, ':lambda:path/2015-03-31/functions/', aliasRef(prod, PUSH_AUTHORIZER.id), '/invocations']] },
    });
    expect(PUSH_AUTHORIZER.identitySource.jwt).toEqual(['route.request.querystring.token', 'route.request.querystring.chapters']);
    const permissions = resources(prod.template, 'AWS::Lambda::Permission', { FunctionName: aliasRef(prod, PUSH_AUTHORIZER.id), Principal: 'apigateway.amazonaws.com' });
    expect(permissions).toHaveLength(1);
    expect(JSON.stringify(permissions[0][1].Properties.SourceArn)).toContain(`"/authorizers/",{"Ref":"${authorizerId}"}`);
  });

  test('an open demo: the authorizer reads the user_id query string instead of a token', () => {
    const demo = build({ [CONTEXT.stage]: 'demo', [CONTEXT.openDemo]: 'true' });
    demo.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      IdentitySource: [...PUSH_AUTHORIZER.identitySource.headers],
    });
    expect(PUSH_AUTHORIZER.identitySource.headers).toEqual(['route.request.querystring.user_id', 'route.request.querystring.chapters']);
    expect(routeOf(demo, '$connect').route.AuthorizationType).toBe('CUSTOM');
  });

  test('two-way routes answer the client (a $default route response): the mock routes; the function routes do not', () => {
    const twoWay = [...PUSH_ROUTES.map((spec) => [spec.routeKey, spec.returnsResponse] as const), ...PUSH_MOCK_ROUTES.map((spec) => [spec.routeKey, true] as const)];
    for (const [routeKey, returnsResponse] of twoWay) {
      const { routeId, route } = routeOf(prod, routeKey);
      const responses = resources(prod.template, 'AWS::ApiGatewayV2::RouteResponse', { RouteId: { Ref: routeId } });
      expect([routeKey, responses.map(([, r]) => r.Properties.RouteResponseKey)]).toEqual([routeKey, returnsResponse ? ['$default'] : []]);
      expect(route.RouteResponseSelectionExpression).toBe(returnsResponse ? '$default' : undefined);
    }
    expect(twoWay.filter(([, returnsResponse]) => returnsResponse).map(([routeKey]) => routeKey)).toEqual(['ping']);
    expect(resources(prod.template, 'AWS::ApiGatewayV2::RouteResponse', { ApiId: { Ref: pushApiId } })).toHaveLength(1);
  });

  test(`the stage "${PUSH_STAGE_NAME}" (the local path too): deployed on every change, throttled as the stage's API, one JSON access-log line per request`, () => {
    expect(`/${PUSH_STAGE_NAME}`).toBe(LOCAL_PUSH_PATH);
    const stages = resources(prod.template, 'AWS::ApiGatewayV2::Stage', { ApiId: { Ref: pushApiId } });
    expect(stages).toHaveLength(1);
    expect(stages[0][1].Properties).toEqual({
      ApiId: { Ref: pushApiId },
      StageName: PUSH_STAGE_NAME,
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: STAGES.prod.throttle.rateLimit, ThrottlingBurstLimit: STAGES.prod.throttle.burstLimit },
      AccessLogSettings: { DestinationArn: getAtt(prod.id(prod.stack.push.accessLogs)), Format: expect.any(String) },
    });
    expect(JSON.parse(stages[0][1].Properties.AccessLogSettings.Format)).toEqual(PUSH_ACCESS_LOG_FIELDS);
    expect(prod.template.toJSON().Resources[prod.id(prod.stack.push.accessLogs)]).toMatchObject({ Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Retain' });
  });

  test('throttles and retention follow the stage and its settings (dev; a throttle from context)', () => {
    const dev = build({ ...JWT_CONTEXT, [CONTEXT.throttleRate]: '70' });
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: PUSH_STAGE_NAME,
      DefaultRouteSettings: { ThrottlingRateLimit: 70, ThrottlingBurstLimit: STAGES.dev.throttle.burstLimit },
    });
    expect(dev.template.toJSON().Resources[dev.id(dev.stack.push.accessLogs)]).toMatchObject({ Properties: { RetentionInDays: 7 }, DeletionPolicy: 'Delete' });
  });

  test('the access log: what the runbook groups by, and nothing that identifies a person (the token rides in the query string)', () => {
    expect(Object.keys(PUSH_ACCESS_LOG_FIELDS)).toEqual(
      expect.arrayContaining(['requestId', 'eventType', 'routeKey', 'status', 'integrationError', 'authorizerError', 'integrationRequestId']),
    );
    expect(JSON.stringify(PUSH_ACCESS_LOG_FIELDS)).not.toMatch(/sourceIp|userAgent|\$context\.identity|querystring|principalId|authorizer\.(?!error)/);
  });

  test('output PushUrl: wss://<api>.execute-api.<region>.<suffix>/push', () => {
    prod.template.hasOutput('PushUrl', {
      Value: { 'Fn::Join': ['', ['wss://', { Ref: pushApiId }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, `/${PUSH_STAGE_NAME}`]] },
    });
  });
});

describe('functions', () => {
  test('one ChatFunction per push function of the contract, apart from the HTTP routes\' functions; none for ping (a mock)', () => {
    expect(Object.keys(prod.stack.push.functions).sort()).toEqual([...PUSH_IDS].sort());
    expect(PUSH_IDS).toEqual(['PushAuthorize', 'PushConnect', 'PushDisconnect', 'PushFanout']);
    expect(resources(prod.template, 'AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Push') })).toHaveLength(PUSH_IDS.length);
    for (const id of PUSH_IDS) expect(prod.stack.functions[id]).toBeUndefined();
    expect(prod.stack.push.fanout).toBe(prod.stack.push.functions[PUSH_FANOUT.id]);
  });

  test.each(PUSH_IDS)('%s: Node.js 24 on arm64, its handler, active tracing, the writes\' timeout, its own role and log group', (id) => {
    const fn = prod.stack.push.functions[id];
    const spec = PUSH_FUNCTIONS.find((s) => s.id === id)!;
    expect(fn.node.path).toBe(`GroupChat-prod/Push/${id}`);
    expect(spec.entry).toMatch(/^lambda\/handlers\/push-[a-z]+\.ts$/);
    prod.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      MemorySize: 512,
      Timeout: Math.ceil((DEADLINES.write.deadlineMs + 500) / 1000),
      Role: getAtt(prod.id(fn.role as iam.Role)),
      LoggingConfig: { LogGroup: { Ref: prod.id(fn.logGroup) } },
      Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps', [ENV.identitySource]: 'jwt', [ENV.membership]: 'managed' }) },
    });
    expect(prod.template.toJSON().Resources[prod.id(fn.logGroup)]).toMatchObject({ Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Retain' });
  });

  test.each(PUSH_FUNCTIONS.map((spec) => [spec.id, spec] as const))('%s: exactly its DynamoDB actions, on the table only', (id, spec) => {
    const dynamodb = statementsOf(prod, id)
      .filter((s) => actionsOf(s).some((action) => action.startsWith('dynamodb:')))
      .map((s) => ({ effect: s.Effect, actions: actionsOf(s).sort(), resource: s.Resource }));
    const streamReads = id === PUSH_FANOUT.id
      ? [
          // The stream mapping's reads (Lambda polls with the function's role): ListStreams takes no resource.
          { effect: 'Allow', actions: ['dynamodb:ListStreams', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'], resource: '*' },
          { effect: 'Allow', actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], resource: getAtt(tableId, 'StreamArn') },
        ]
      : [];
    expect(dynamodb.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      [...(spec.dynamodbActions.length ? [{ effect: 'Allow', actions: [...spec.dynamodbActions].sort(), resource: getAtt(tableId) }] : []), ...streamReads].sort((a, b) =>
        JSON.stringify(a).localeCompare(JSON.stringify(b)),
      ),
    );
    prod.template.hasResourceProperties('AWS::Lambda::Function', {
      Role: getAtt(prod.id(prod.stack.push.functions[id].role as iam.Role)),
      Environment: { Variables: Match.objectLike({ [ENV.tableName]: spec.dynamodbActions.length ? { Ref: tableId } : Match.absent() }) },
    });
  });

  test('only the fan-out may post to connections: PostToConnection on this stage\'s @connections, and the endpoint to post to', () => {
    const manage = (id: string) => statementsOf(prod, id).filter((s) => actionsOf(s).some((action) => action.startsWith('execute-api:')));
    expect(manage(PUSH_FANOUT.id)).toEqual([
      {
        Effect: 'Allow',
        Action: 'execute-api:ManageConnections',
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':execute-api:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':', { Ref: pushApiId }, `/${PUSH_STAGE_NAME}/POST/@connections/*`]],
        },
      },
    ]);
    for (const spec of PUSH_FUNCTIONS) {
      expect([spec.id, Boolean(spec.postsToConnections)]).toEqual([spec.id, spec.id === PUSH_FANOUT.id]);
      if (spec.id !== PUSH_FANOUT.id) expect(manage(spec.id)).toEqual([]);
      prod.template.hasResourceProperties('AWS::Lambda::Function', {
        Role: getAtt(prod.id(prod.stack.push.functions[spec.id].role as iam.Role)),
        Environment: {
          Variables: Match.objectLike({
            [ENV.pushConnectionsEndpoint]: spec.postsToConnections
              ? { 'Fn::Join': ['', ['https://', { Ref: pushApiId }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, `/${PUSH_STAGE_NAME}`]] }
              : Match.absent(),
          }),
        },
      });
    }
  });

  test('nothing else: only logs, tracing, the fan-out\'s queue', () => {
    for (const id of PUSH_IDS) {
      const others = statementsOf(prod, id).flatMap(actionsOf).filter((a) => !/^(dynamodb|logs|xray|execute-api):/.test(a));
      expect([id, others.sort()]).toEqual([id, id === PUSH_FANOUT.id ? ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'] : []]);
    }
    const sqs = statementsOf(prod, PUSH_FANOUT.id).filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
    expect(sqs.map((s) => s.Resource)).toEqual([getAtt(prod.id(prod.stack.push.failureQueue))]);
  });

  test('the authorizer verifies tokens of the stack\'s issuer and audiences, with its claim names; no other function gets them', () => {
    const claimed = build({ ...JWT_CONTEXT, [CONTEXT.jwtClaimUserId]: 'custom:user_id' });
    for (const spec of PUSH_FUNCTIONS) {
      claimed.template.hasResourceProperties('AWS::Lambda::Function', {
        Role: getAtt(claimed.id(claimed.stack.push.functions[spec.id].role as iam.Role)),
        Environment: {
          Variables: Match.objectLike({
            [ENV.jwtIssuer]: spec.verifiesTokens ? ISSUER : Match.absent(),
            [ENV.jwtAudience]: spec.verifiesTokens ? 'client-a,client-b' : Match.absent(),
            [ENV.jwtJwksUri]: Match.absent(),
            [ENV.userIdClaim]: 'custom:user_id',
            [ENV.identitySource]: 'jwt',
          }),
        },
      });
    }
    expect(PUSH_FUNCTIONS.filter((spec) => spec.verifiesTokens).map((spec) => spec.id)).toEqual([PUSH_AUTHORIZER.id]);
  });

  test('an open demo: identity from the query string (headers mode), no issuer anywhere', () => {
    const demo = build({ [CONTEXT.stage]: 'demo', [CONTEXT.openDemo]: 'true' });
    for (const id of PUSH_IDS) {
      demo.template.hasResourceProperties('AWS::Lambda::Function', {
        Role: getAtt(demo.id(demo.stack.push.functions[id].role as iam.Role)),
        Environment: { Variables: Match.objectLike({ [ENV.identitySource]: 'headers', [ENV.jwtIssuer]: Match.absent(), [ENV.jwtAudience]: Match.absent() }) },
      });
    }
  });

  test('released with the stack update: no CodeDeploy group for a push function (lib/chat-stack.ts says why)', () => {
    const groups = Object.keys(prod.stack.release!.deploymentGroups);
    expect(groups.length).toBeGreaterThan(0);
    for (const id of PUSH_IDS) expect(groups).not.toContain(id);
    for (const id of PUSH_IDS) {
      prod.template.resourcePropertiesCountIs('AWS::Lambda::Alias', { FunctionName: { Ref: prod.id(prod.stack.push.functions[id]) }, Name: 'live', RoutingConfig: Match.anyValue() }, 0);
    }
  });
});

describe('stream fan-out', () => {
  let mapping: Record<string, any>;
  beforeAll(() => {
    const mappings = resources(prod.template, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    mapping = mappings[0][1].Properties;
  });

  test('the table\'s stream feeds the fan-out\'s live alias, from the latest record', () => {
    expect(mapping.EventSourceArn).toEqual(getAtt(tableId, 'StreamArn'));
    // The alias by name (<function>:live): the mapping follows the alias when a release moves it.
    expect(mapping.FunctionName).toEqual({ 'Fn::Join': ['', [{ 'Fn::Select': [6, { 'Fn::Split': [':', aliasRef(prod, PUSH_FANOUT.id)] }] }, ':live']] });
    expect(mapping.StartingPosition).toBe(PUSH_STREAM.startingPosition);
    expect(PUSH_STREAM.startingPosition).toBe('LATEST');
  });

  test('batches, retries and failures as the contract says: item failures reported, retries and record age bounded, the rest to the queue', () => {
    expect(mapping).toMatchObject({
      BatchSize: PUSH_STREAM.batchSize,
      MaximumBatchingWindowInSeconds: PUSH_STREAM.maxBatchingWindowSeconds,
      MaximumRetryAttempts: PUSH_STREAM.retryAttempts,
      MaximumRecordAgeInSeconds: PUSH_STREAM.maxRecordAgeSeconds,
      BisectBatchOnFunctionError: PUSH_STREAM.bisectBatchOnError,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: getAtt(prod.id(prod.stack.push.failureQueue)) } },
    });
    expect(PUSH_STREAM.reportBatchItemFailures).toBe(true);
    // The latency target (p99 ≤ 500 ms from a send's answer) leaves no room for a batching window.
    expect(PUSH_STREAM.maxBatchingWindowSeconds).toBe(0);
    // Bounded: a poison record cannot hold its shard (and every chapter on it) for long.
    expect(PUSH_STREAM.retryAttempts).toBeGreaterThanOrEqual(1);
    expect(PUSH_STREAM.retryAttempts).toBeLessThanOrEqual(10);
    expect(PUSH_STREAM.maxRecordAgeSeconds).toBeLessThanOrEqual(MAX_ITERATOR_AGE.toSeconds() * 10);
  });

  test('only new messages and removed members reach the function: the contract\'s filter patterns', () => {
    expect(mapping.FilterCriteria.Filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern))).toEqual(PUSH_STREAM.filterPatterns);
    expect(PUSH_STREAM.filterPatterns.map((p) => [p.eventName, p.dynamodb.Keys.sk.S[0].prefix])).toEqual([
      [['INSERT'], 'msg#'],
      [['REMOVE'], 'member#'],
    ]);
  });

  test('the on-failure queue: SQS-managed encryption, TLS only, kept 14 days', () => {
    const queueId = prod.id(prod.stack.push.failureQueue);
    expect(prod.template.toJSON().Resources[queueId].Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: FAILURE_RETENTION.toSeconds() });
    expect(FAILURE_RETENTION.toDays()).toBe(14);
    prod.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
  });
});

describe('alarms and dashboard', () => {
  /** The properties of the one alarm with this name. */
  const alarmNamed = (name: string): Record<string, any> => {
    const found = resources(prod.template, 'AWS::CloudWatch::Alarm', { AlarmName: `GroupChat-prod-${name}` });
    expect(found).toHaveLength(1);
    return found[0][1].Properties;
  };
  const pushApiMetric = (metricName: string) => ({
    Namespace: 'AWS/ApiGateway',
    MetricName: metricName,
    Dimensions: expect.arrayContaining([{ Name: 'ApiId', Value: { Ref: pushApiId } }, { Name: 'Stage', Value: PUSH_STAGE_NAME }]),
    Period: 300,
  });
  const fanoutRef = () => ({ Ref: prod.id(prod.stack.push.fanout) });

  test('every push function: crashes and timeouts, throttles, p99 duration (as every function)', () => {
    for (const id of PUSH_IDS) {
      for (const signal of ['Errors', 'Throttles', 'P99Duration']) {
        expect(alarmNamed(`${id}${signal}`).Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: prod.id(prod.stack.push.functions[id]) } }]);
      }
    }
    // ping is answered by API Gateway (a mock): no function, so no alarm of its own.
    const names = resources(prod.template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => String(alarm.Properties.AlarmName));
    expect(names.filter((name) => /Ping/i.test(name))).toEqual([]);
  });

  test("the fan-out's Errors: any crash or timeout of a batch in 5 minutes", () => {
    expect(alarmNamed(`${PUSH_FANOUT.id}Errors`)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: fanoutRef() }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
  });

  test('the fan-out falling behind its stream: iterator age above 10 s for two 5-minute periods', () => {
    expect(MAX_ITERATOR_AGE.toMilliseconds()).toBe(10_000);
    expect(alarmNamed('PushFanoutIteratorAge')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: fanoutRef() }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 10_000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
    });
  });

  test('batches given up: any message in the on-failure queue', () => {
    expect(alarmNamed('PushFanoutFailedBatches')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: getAtt(prod.id(prod.stack.push.failureQueue), 'QueueName') }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
  });

  test('the WebSocket API: any execution error, and integration errors from 5 in 5 minutes, on the push stage', () => {
    expect(alarmNamed('PushApiExecutionErrors')).toMatchObject({
      ...pushApiMetric('ExecutionError'),
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
    expect(MAX_INTEGRATION_ERRORS).toBe(5);
    expect(alarmNamed('PushApiIntegrationErrors')).toMatchObject({
      ...pushApiMetric('IntegrationError'),
      Statistic: 'Sum',
      Threshold: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
    for (const name of ['PushApiExecutionErrors', 'PushApiIntegrationErrors']) expect(alarmNamed(name).Dimensions).toHaveLength(2);
  });

  test('each push alarm tells the topic, treats no data as fine, and says what to do', () => {
    const topic = { Ref: prod.id(prod.stack.monitoring.topic) };
    for (const name of ['PushFanoutIteratorAge', 'PushFanoutFailedBatches', 'PushApiExecutionErrors', 'PushApiIntegrationErrors']) {
      const alarm = alarmNamed(name);
      expect(alarm).toMatchObject({ AlarmActions: [topic], OKActions: [topic], TreatMissingData: 'notBreaching' });
      expect(alarm.AlarmDescription.length).toBeGreaterThan(100);
    }
  });

  test("the DynamoDB alarms also watch the push functions' operations (BatchWriteItem of $disconnect included)", () => {
    const throttles = alarmNamed('DynamoDBThrottles');
    const operations = throttles.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric.Dimensions.find((d: any) => d.Name === 'Operation').Value);
    expect(operations).toEqual(expect.arrayContaining(['BatchGetItem', 'BatchWriteItem', 'DeleteItem', 'PutItem', 'Query', 'TransactWriteItems']));
    expect(operations).not.toContain('ConditionCheckItem');
  });

  test('the dashboard has a push row: connects, messages, the API\'s errors, the stream\'s delay, the queue', () => {
    const body = JSON.stringify(resources(prod.template, 'AWS::CloudWatch::Dashboard')[0][1].Properties.DashboardBody);
    const titles = ['Push connects and messages', 'Push API errors', 'Push stream delay (ms)', 'Push batches given up'];
    for (const title of titles) expect(body).toContain(`\\"title\\":\\"${title}\\"`);
    for (const metric of ['ConnectCount', 'MessageCount', 'ClientError', 'IntegrationError', 'ExecutionError', 'IteratorAge', 'ApproximateNumberOfMessagesVisible']) {
      expect(body).toContain(`\\"${metric}\\"`);
    }
    expect(body).toContain(`\\"Stage\\",\\"${PUSH_STAGE_NAME}\\"`);
  });
});

describe('cdk-nag', () => {
  test.each([
    ['prod', PROD_CONTEXT],
    ['an open demo', { [CONTEXT.stage]: 'demo', [CONTEXT.openDemo]: 'true' }],
  ])('%s: no unacknowledged finding', (_, context) => {
    const { app } = build(context);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
    expect(new ServerlessChecks().validateScope(app).violations).toEqual([]);
  });

  test('push acknowledges only what does not apply, each with its reason', () => {
    const acknowledged = acknowledgementsUnder(prod.stack.push).map(({ path, id, reason }) => ({ path: path.replace('GroupChat-prod/Push/', ''), id, reason }));
    const byRule = (id: string) => acknowledged.filter((a) => a.id === id || a.id.startsWith(`${id}[`));
    for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(60);
    // WebSocket APIs authorize $connect only.
    expect(byRule('AwsSolutions-APIG4').map((a) => a.path).sort()).toEqual(['Api/$disconnect-Route', 'Api/ping-Route']);
    // The queue is the dead-letter queue.
    expect(byRule('AwsSolutions-SQS3').map((a) => a.path)).toEqual(['FanoutFailures']);
    expect(byRule('Serverless-SQSRedrivePolicy').map((a) => a.path)).toEqual(['FanoutFailures']);
    // Connection ids exist at run time only.
    expect(byRule('AwsSolutions-IAM5').filter((a) => a.id.includes('@connections')).map((a) => a.path)).toEqual([`${PUSH_FANOUT.id}Role`]);
    // Every push function is invoked synchronously: the API's functions by the WebSocket API, the fan-out by its stream mapping.
    const dlq = byRule('Serverless-LambdaDLQ');
    expect(dlq.map((a) => a.path).sort()).toEqual([...PUSH_IDS].sort());
    for (const { path, reason } of dlq) expect([path, reason]).toEqual([path, expect.stringMatching(path === PUSH_FANOUT.id ? /stream's event source mapping/ : /WebSocket API/)]);
    expect(acknowledged.map((a) => a.id.replace(/\[.*$/, '')).filter((id) => !['AwsSolutions-APIG4', 'AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy', 'AwsSolutions-IAM5', 'Serverless-LambdaDLQ'].includes(id))).toEqual([]);
  });
});
