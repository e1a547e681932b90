/**
 * ChatMonitoring's contract, pinned on the synthesized template: which alarms exist, on which metric,
 * with which threshold, and whom they tell; the topic's policy; the dashboard's signals; and that
 * the construct passes cdk-nag's AwsSolutions and Serverless packs with no acknowledgement beyond
 * the one it documents.
 */
import { App, Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, ROUTES, SERVICE_NAME } from '../../lambda/contract';
import { ChatMonitoring, type ChatMonitoringProps } from '../../lib/monitoring';
import { ROUTE_TABLE_OPERATIONS, tableOperationsOf } from '../../lib/monitoring/table-alarms';
import { acknowledgementsUnder } from '../support/nag';
import { evaluate, fires, type Datum } from './alarm-eval';

const PREFIX = 'GroupChat-test';
const ROUTE_IDS = ['FindGroupChat', 'SendGroupChat'] as const;
/**
 * The DynamoDB operations the routes issue (from their IAM actions, and TransactWriteItems for the
 * routes that write through transactions): the table alarms must cover each.
 */
const OPERATIONS = [
  ...new Set(
    ROUTES.flatMap((route) => [...route.dynamodbActions.map((action) => action.replace(/^dynamodb:/, '')), ...(route.transactWrites ? ['TransactWriteItems'] : [])]),
  ),
].sort();

/** Why the fixture's own resources (not ChatMonitoring's) are exempt: they only exist to be monitored. */
const FIXTURE_ONLY = 'Test fixture: a stand-in for the chat stack, only synthesized to attach ChatMonitoring to; never deployed.';

interface Fixture {
  app: App;
  stack: Stack;
  monitoring: ChatMonitoring;
  template: Template;
  id: (construct: IConstruct) => string;
  fnIds: Record<string, string>;
}

/** A small stack (table, two functions, an HTTP API) with ChatMonitoring attached and both nag packs on. */
function fixture(overrides: Partial<ChatMonitoringProps> = {}, { timeout = Duration.seconds(15) } = {}): Fixture {
  const app = new App();
  const stack = new Stack(app, 'MonitoringTest');
  const table = new dynamodb.Table(stack, 'Table', {
    partitionKey: { name: 'chapter_id', type: dynamodb.AttributeType.NUMBER },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  });
  const functions: Record<string, lambda.Function> = {};
  for (const route of ROUTE_IDS) {
    functions[route] = new lambda.Function(stack, route, {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
      memorySize: 512,
      timeout,
    });
    for (const id of ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'Serverless-LambdaDLQ', 'Serverless-LambdaTracing']) {
      Validations.of(functions[route]).acknowledge({ id, reason: FIXTURE_ONLY });
    }
  }
  const httpApi = new apigwv2.HttpApi(stack, 'Api');
  for (const id of ['AwsSolutions-APIG1', 'Serverless-APIGWAccessLogging', 'Serverless-APIGWDefaultThrottling']) {
    Validations.of(httpApi).acknowledge({ id, reason: FIXTURE_ONLY });
  }

  const monitoring = new ChatMonitoring(stack, 'Monitoring', {
    namePrefix: PREFIX,
    functions,
    httpApi,
    table,
    ...overrides,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));

  const template = Template.fromStack(stack);
  const id = (construct: IConstruct) => stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
  const fnIds = Object.fromEntries(Object.entries(functions).map(([route, fn]) => [route, id(fn)]));
  return { app, stack, monitoring, template, id, fnIds: { ...fnIds, table: id(table), api: id(httpApi) } };
}

/** The properties of the one alarm with this name. */
function alarmNamed(template: Template, name: string): Record<string, any> {
  const found = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } }));
  expect(found).toHaveLength(1);
  return found[0].Properties;
}

/** CloudFormation's [{Name, Value}] dimensions as an object (their order carries no meaning). */
const dimensionsOf = (dimensions: Array<{ Name: string; Value: unknown }>) => Object.fromEntries(dimensions.map((d) => [d.Name, d.Value]));

/** The math expression alarm's expression, and its metrics by id (as {namespace, name, dimensions, stat}). */
function mathOf(alarm: Record<string, any>) {
  const [expression, ...rest] = alarm.Metrics;
  expect(expression.ReturnData).not.toBe(false);
  const metrics = Object.fromEntries(
    rest.map((m: any) => {
      expect(m.ReturnData).toBe(false);
      expect(m.MetricStat.Period).toBe(300);
      return [
        m.Id,
        {
          namespace: m.MetricStat.Metric.Namespace,
          name: m.MetricStat.Metric.MetricName,
          dimensions: dimensionsOf(m.MetricStat.Metric.Dimensions),
          stat: m.MetricStat.Stat,
        },
      ];
    }),
  );
  return { expression: expression.Expression as string, metrics };
}

/**
 * The dashboard body as JSON: the Fn::Join parts joined, each reference written as `{{Ref:<id>}}`
 * or `{{GetAtt:<id>.<attribute>}}` (they all sit inside JSON strings).
 */
function dashboardBody(template: Template): any {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0].Properties.DashboardBody;
  const parts: unknown[] = typeof body === 'string' ? [body] : body['Fn::Join'][1];
  const text = parts
    .map((part: any) => {
      if (typeof part === 'string') return part;
      if (part.Ref) return `{{Ref:${part.Ref}}}`;
      if (part['Fn::GetAtt']) return `{{GetAtt:${part['Fn::GetAtt'].join('.')}}}`;
      throw new Error(`unexpected part ${JSON.stringify(part)}`);
    })
    .join('');
  return JSON.parse(text);
}

let base: Fixture;
let topicId: string;

beforeAll(() => {
  base = fixture();
  topicId = base.id(base.monitoring.topic);
});

describe('topic', () => {
  test('one topic, named for the stack, not KMS-encrypted (it carries only alarm state changes; see lib/monitoring/alarm-topic.ts)', () => {
    base.template.resourceCountIs('AWS::SNS::Topic', 1);
    base.template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: `${PREFIX} alarms`,
      KmsMasterKeyId: Match.absent(),
    });
  });

  test('its policy denies publishing without TLS, and lets only CloudWatch alarms of this account named <prefix>-* publish', () => {
    base.template.resourceCountIs('AWS::SNS::TopicPolicy', 1);
    base.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
          {
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:alarm:${PREFIX}-*`]],
                },
              },
            },
          },
        ],
      },
    });
  });

  test('every alarm name falls under the policy\'s <prefix>-* pattern', () => {
    for (const alarm of Object.values(base.template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmName.startsWith(`${PREFIX}-`)).toBe(true);
    }
  });

  test('no subscription without alarmEmail', () => {
    base.template.resourceCountIs('AWS::SNS::Subscription', 0);
    expect(base.monitoring.topic.emailSubscription).toBeUndefined();
  });

  test('alarmEmail subscribes that address to the topic by e-mail', () => {
    const { template, monitoring, id } = fixture({ alarmEmail: 'ops@example.com' });
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: id(monitoring.topic) },
    });
  });
});

describe('alarms', () => {
  test('3 per function (errors, throttles, p99 duration), 2 on the API and 1 per route, 2 on the answers, 2 on the table; all of them exposed', () => {
    const expected = [
      ...ROUTE_IDS.flatMap((route) => [`${route}Errors`, `${route}Throttles`, `${route}P99Duration`]),
      'Api5xxRate',
      'Api4xxRate',
      ...ROUTES.map((route) => `${route.id}Route5xxRate`),
      'Answered503',
      'Answered500',
      'DynamoDBThrottles',
      'DynamoDBSystemErrors',
    ].map((name) => `${PREFIX}-${name}`);
    const names = Object.values(base.template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName);
    expect(names.sort()).toEqual([...expected].sort());
    expect(base.monitoring.alarms).toHaveLength(expected.length);
  });

  test('every alarm tells the topic when it goes off and when it clears, treats no data as fine, and says what to do', () => {
    for (const alarm of Object.values(base.template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties).toMatchObject({
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
        TreatMissingData: 'notBreaching',
        DatapointsToAlarm: alarm.Properties.EvaluationPeriods,
      });
      expect(alarm.Properties.InsufficientDataActions).toBeUndefined();
      expect(alarm.Properties.AlarmDescription.length).toBeGreaterThan(60);
    }
  });

  describe.each(ROUTE_IDS)('function %s', (route) => {
    const lambdaMetric = (metricName: string) => ({
      Namespace: 'AWS/Lambda',
      MetricName: metricName,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: base.fnIds[route] } }],
      Period: 300,
    });

    test('Errors: any crash or timeout in 5 minutes (Sum >= 1)', () => {
      expect(alarmNamed(base.template, `${PREFIX}-${route}Errors`)).toMatchObject({
        ...lambdaMetric('Errors'),
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
      });
    });

    test('Throttles: any throttle in 5 minutes (Sum >= 1)', () => {
      expect(alarmNamed(base.template, `${PREFIX}-${route}Throttles`)).toMatchObject({
        ...lambdaMetric('Throttles'),
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
      });
    });

    test('Duration: p99 above 1 s for three 5-minute periods in a row, low-sample periods ignored', () => {
      const alarm = alarmNamed(base.template, `${PREFIX}-${route}P99Duration`);
      expect(alarm).toMatchObject({
        ...lambdaMetric('Duration'),
        ExtendedStatistic: 'p99',
        Threshold: 1000,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 3,
        EvaluateLowSampleCountPercentile: 'ignore',
      });
      expect(alarm.AlarmDescription).toContain('timeout 15 s');
    });
  });

  test('the p99 threshold can be set, and must stay below the function timeout', () => {
    const { template } = fixture({ p99DurationThreshold: Duration.millis(2500) });
    expect(alarmNamed(template, `${PREFIX}-FindGroupChatP99Duration`).Threshold).toBe(2500);
    expect(() => fixture({ p99DurationThreshold: Duration.seconds(15) })).toThrow(/must be below the timeout of FindGroupChat/);
    // Each function's own timeout counts (Lambda takes whole seconds).
    expect(() => fixture({ p99DurationThreshold: Duration.millis(2500) }, { timeout: Duration.seconds(2) })).toThrow(/must be below the timeout of FindGroupChat \(2000 ms\)/);
  });

  describe('API ($default stage)', () => {
    const apiMetric = (name: string) => ({
      namespace: 'AWS/ApiGateway',
      name,
      dimensions: { ApiId: { Ref: base.fnIds.api }, Stage: '$default' },
      stat: 'Sum',
    });

    test('5xx rate: above 1 % of requests in one 5-minute period, only judged with >= 100 requests', () => {
      const alarm = alarmNamed(base.template, `${PREFIX}-Api5xxRate`);
      expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
      expect(mathOf(alarm)).toEqual({
        expression: 'IF(requests >= 100, 100 * FILL(serverErrors, 0) / requests, 0)',
        metrics: { requests: apiMetric('Count'), serverErrors: apiMetric('5xx') },
      });
    });

    test('4xx rate: above 10 % of requests for three 5-minute periods in a row, only judged with >= 100 requests', () => {
      const alarm = alarmNamed(base.template, `${PREFIX}-Api4xxRate`);
      expect(alarm).toMatchObject({ Threshold: 10, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3 });
      expect(mathOf(alarm)).toEqual({
        expression: 'IF(requests >= 100, 100 * FILL(clientErrors, 0) / requests, 0)',
        metrics: { requests: apiMetric('Count'), clientErrors: apiMetric('4xx') },
      });
    });

    test('another stage name is watched when given', () => {
      const { template } = fixture({ stageName: 'prod' });
      const { metrics } = mathOf(alarmNamed(template, `${PREFIX}-Api5xxRate`));
      expect(metrics.requests.dimensions).toEqual({ ApiId: expect.anything(), Stage: 'prod' });
    });
  });

  describe('per route (the stage\'s detailed metrics)', () => {
    const SEND = ROUTES.find((route) => route.id === 'SendGroupChat')!;
    const FIND = ROUTES.find((route) => route.id === 'FindGroupChat')!;
    const stage = () => ({ ApiId: { Ref: base.fnIds.api }, Stage: '$default' });
    const routeDims = (route: { method: string; path: string }) => ({ ...stage(), Method: route.method, Resource: route.path });
    /** One 5-minute period: each route's requests and 5xx, and the stage's totals. */
    const traffic = (routes: Array<{ route: (typeof ROUTES)[number]; requests: number; failed: number }>): Datum[] => [
      ...routes.flatMap(({ route, requests, failed }) => [
        { namespace: 'AWS/ApiGateway', name: 'Count', dimensions: routeDims(route), value: requests },
        { namespace: 'AWS/ApiGateway', name: '5xx', dimensions: routeDims(route), value: failed },
      ]),
      { namespace: 'AWS/ApiGateway', name: 'Count', dimensions: stage(), value: routes.reduce((n, r) => n + r.requests, 0) },
      { namespace: 'AWS/ApiGateway', name: '5xx', dimensions: stage(), value: routes.reduce((n, r) => n + r.failed, 0) },
    ];
    const sendsAllFailing = () => traffic([
      { route: FIND, requests: 10_000, failed: 0 },
      { route: SEND, requests: 20, failed: 20 },
    ]);

    test.each(ROUTES)('$id: above 5 % of its own requests (method and path as dimensions) answered 5xx in 5 minutes, once at least 3 failed', (route) => {
      const alarm = alarmNamed(base.template, `${PREFIX}-${route.id}Route5xxRate`);
      expect(alarm).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
      const metric = (name: string) => ({ namespace: 'AWS/ApiGateway', name, dimensions: routeDims(route), stat: 'Sum' });
      const id = route.id.charAt(0).toLowerCase() + route.id.slice(1);
      expect(mathOf(alarm)).toEqual({
        expression: `IF(FILL(${id}5xx, 0) >= 3, 100 * FILL(${id}5xx, 0) / ${id}Requests, 0)`,
        metrics: { [`${id}Requests`]: metric('Count'), [`${id}5xx`]: metric('5xx') },
      });
      expect(alarm.AlarmDescription).toContain(`${route.method} ${route.path}`);
    });

    test('every send failing while polls dominate fires the send route\'s alarm, which the stage-wide rate misses', () => {
      const data = sendsAllFailing();
      expect(fires(alarmNamed(base.template, `${PREFIX}-SendGroupChatRoute5xxRate`), data)).toBe(true);
      expect(fires(alarmNamed(base.template, `${PREFIX}-FindGroupChatRoute5xxRate`), data)).toBe(false);
      // 20 of 10 020 requests: 0.2 %, under the stage's 1 %.
      expect(fires(alarmNamed(base.template, `${PREFIX}-Api5xxRate`), data)).toBe(false);
    });

    test('broken on purpose: judged on the stage\'s metrics (no method and path), the same alarm misses the failing sends', () => {
      const broken = structuredClone(alarmNamed(base.template, `${PREFIX}-SendGroupChatRoute5xxRate`));
      for (const m of broken.Metrics.filter((m: any) => m.MetricStat)) {
        m.MetricStat.Metric.Dimensions = m.MetricStat.Metric.Dimensions.filter((d: { Name: string }) => d.Name !== 'Method' && d.Name !== 'Resource');
      }
      expect(fires(broken, sendsAllFailing())).toBe(false);
    });

    test('quiet on a lone failure, on a small share, and without requests; loud on a large share of polls', () => {
      const send = alarmNamed(base.template, `${PREFIX}-SendGroupChatRoute5xxRate`);
      const find = alarmNamed(base.template, `${PREFIX}-FindGroupChatRoute5xxRate`);
      expect(fires(send, traffic([{ route: SEND, requests: 20, failed: 2 }]))).toBe(false);
      expect(fires(send, traffic([{ route: SEND, requests: 3, failed: 3 }]))).toBe(true);
      expect(fires(send, [])).toBe(false);
      expect(fires(find, traffic([{ route: FIND, requests: 10_000, failed: 400 }]))).toBe(false);
      expect(fires(find, traffic([{ route: FIND, requests: 10_000, failed: 600 }]))).toBe(true);
    });

    test('the routes can be chosen', () => {
      const { template } = fixture({ routes: [SEND] });
      const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName as string);
      expect(names.filter((name) => name.endsWith('Route5xxRate'))).toEqual([`${PREFIX}-SendGroupChatRoute5xxRate`]);
    });
  });

  describe("answers (the functions' own metrics: every 503 and 500 they answered)", () => {
    const answered = (name: string, value: number): Datum[] => [{ namespace: METRICS_NAMESPACE, name, dimensions: { service: SERVICE_NAME }, value }];

    test('Answered503: at least 10 requests answered 503 in 5 minutes (Sum of METRIC.Unavailable)', () => {
      const alarm = alarmNamed(base.template, `${PREFIX}-Answered503`);
      expect(alarm).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.Unavailable,
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 10,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
      });
      expect(fires(alarm, answered(METRIC.Unavailable, 10))).toBe(true);
      expect(fires(alarm, answered(METRIC.Unavailable, 9))).toBe(false);
      expect(fires(alarm, answered(METRIC.Errors, 50))).toBe(false);
    });

    test('Answered503 broken on purpose: on a metric name the functions do not emit, it misses 50 503s', () => {
      const broken = { ...alarmNamed(base.template, `${PREFIX}-Answered503`), MetricName: 'ServiceUnavailable' };
      expect(fires(broken, answered(METRIC.Unavailable, 50))).toBe(false);
    });

    test('Answered500: any request answered 500 in 5 minutes (Sum of METRIC.Errors)', () => {
      const alarm = alarmNamed(base.template, `${PREFIX}-Answered500`);
      expect(alarm).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.Errors,
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
      });
      expect(fires(alarm, answered(METRIC.Errors, 1))).toBe(true);
      expect(fires(alarm, [])).toBe(false);
    });

    test('Answered500 broken on purpose: with the dimension of one function (which the metrics do not carry), it misses a 500', () => {
      const broken = { ...alarmNamed(base.template, `${PREFIX}-Answered500`), Dimensions: [{ Name: 'service', Value: SERVICE_NAME }, { Name: 'function', Value: 'SendGroupChat' }] };
      expect(fires(broken, answered(METRIC.Errors, 1))).toBe(false);
    });
  });

  test('the evaluator reads metric math as CloudWatch does: FILL, IF, no data', () => {
    expect(evaluate('IF(FILL(e, 0) >= 3, 100 * FILL(e, 0) / r, 0)', { e: undefined, r: 10 })).toBe(0);
    expect(evaluate('IF(FILL(e, 0) >= 3, 100 * FILL(e, 0) / r, 0)', { e: 5, r: 10 })).toBe(50);
    expect(evaluate('FILL(a, 0) + FILL(b, 0)', { a: 2, b: undefined })).toBe(2);
    expect(evaluate('a + b', { a: 2, b: undefined })).toBeUndefined();
    expect(() => evaluate('a + c', { a: 1 })).toThrow(/unknown id c/);
  });

  describe('DynamoDB', () => {
    /** Each operation's metric, and the expression that sums them with missing values as 0. */
    const perOperation = (metricName: string) => ({
      expression: OPERATIONS.map((op) => `FILL(${op.charAt(0).toLowerCase()}${op.slice(1)}, 0)`).join(' + '),
      metrics: Object.fromEntries(
        OPERATIONS.map((op) => [
          `${op.charAt(0).toLowerCase()}${op.slice(1)}`,
          {
            namespace: 'AWS/DynamoDB',
            name: metricName,
            dimensions: { TableName: { Ref: base.fnIds.table }, Operation: op },
            stat: 'Sum',
          },
        ]),
      ),
    });

    test('throttled requests: any, on any operation the routes use, in 5 minutes', () => {
      const alarm = alarmNamed(base.template, `${PREFIX}-DynamoDBThrottles`);
      expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1 });
      expect(mathOf(alarm)).toEqual(perOperation('ThrottledRequests'));
    });

    test('system errors: in two 5-minute periods in a row, on any operation the routes use', () => {
      const alarm = alarmNamed(base.template, `${PREFIX}-DynamoDBSystemErrors`);
      expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 2 });
      expect(mathOf(alarm)).toEqual(perOperation('SystemErrors'));
    });

    test("the default operations are exactly those of the routes' DynamoDB actions, and their transactions", () => {
      expect([...ROUTE_TABLE_OPERATIONS]).toEqual(OPERATIONS);
      // The core of every route: if these are missing, the derivation is broken, not the routes.
      expect(ROUTE_TABLE_OPERATIONS).toEqual(expect.arrayContaining(['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem']));
      // Join, leave and the admin routes write through TransactWriteItems: its throttles and errors
      // are reported under that operation, not under the actions of its items.
      expect(ROUTES.filter((route) => route.transactWrites).map((route) => route.id)).toEqual(['JoinGroupChat', 'LeaveGroupChat', 'AdminAddMembers', 'AdminRemoveMembers']);
      expect(ROUTE_TABLE_OPERATIONS).toContain('TransactWriteItems');
      expect(ROUTE_TABLE_OPERATIONS.length).toBeLessThanOrEqual(10);
    });

    test('operations can be chosen; unknown ones and more than 10 are refused', () => {
      const { template } = fixture({ tableOperations: [dynamodb.Operation.BATCH_GET_ITEM, dynamodb.Operation.QUERY] });
      expect(mathOf(alarmNamed(template, `${PREFIX}-DynamoDBThrottles`)).expression).toBe('FILL(batchGetItem, 0) + FILL(query, 0)');
      expect(() => tableOperationsOf(['dynamodb:GetItem', 'dynamodb:DescribeTable'])).toThrow(/DescribeTable/);
      expect(tableOperationsOf(['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:Query'])).toEqual(['GetItem', 'Query']);
      const eleven = Object.values(dynamodb.Operation).slice(0, 11);
      expect(eleven).toHaveLength(11);
      expect(() => fixture({ tableOperations: eleven })).toThrow(/at most 10/);
    });
  });
});

describe('dashboard', () => {
  let body: any;
  /** Every metric line of every graph: [namespace, name, dim1, value1, ..., options?] or [{expression, ...}]. */
  let lines: unknown[][];
  /** The stats of the lines showing this metric with exactly these dimensions (in any order). */
  const statsOf = (namespace: string, name: string, dimensions: Record<string, string>): string[] =>
    lines
      .filter((line) => line[0] === namespace && line[1] === name)
      .filter((line) => {
        const pairs = line.slice(2).filter((part): part is string => typeof part === 'string');
        const found = Object.fromEntries(Array.from({ length: pairs.length / 2 }, (_, i) => [pairs[2 * i], pairs[2 * i + 1]]));
        return JSON.stringify(sortKeys(found)) === JSON.stringify(sortKeys(dimensions));
      })
      .map((line) => {
        const options = line[line.length - 1];
        return (typeof options === 'object' && (options as { stat?: string }).stat) || 'Average';
      });
  const sortKeys = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

  beforeAll(() => {
    body = dashboardBody(base.template);
    lines = body.widgets.filter((w: any) => w.type === 'metric').flatMap((w: any) => w.properties.metrics);
  });

  test('one dashboard, named after the prefix and the region (dashboard names are per account)', () => {
    base.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    base.template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: { 'Fn::Join': ['', [`${PREFIX}-`, { Ref: 'AWS::Region' }]] } });
  });

  test('an alarm status widget with every alarm', () => {
    const statusWidgets = body.widgets.filter((w: any) => w.type === 'alarm');
    expect(statusWidgets).toHaveLength(1);
    const alarmIds = Object.keys(base.template.findResources('AWS::CloudWatch::Alarm'));
    expect([...statusWidgets[0].properties.alarms].sort()).toEqual(alarmIds.map((a) => `{{GetAtt:${a}.Arn}}`).sort());
  });

  test('API: requests, 4xx, 5xx, both error rates, latency p50 and p99', () => {
    const stage = { ApiId: `{{Ref:${base.fnIds.api}}}`, Stage: '$default' };
    for (const metric of ['Count', '4xx', '5xx']) {
      expect(statsOf('AWS/ApiGateway', metric, stage)).toContain('Sum');
    }
    expect(statsOf('AWS/ApiGateway', 'Latency', stage).sort()).toEqual(['p50', 'p99']);
    const expressions = lines.filter((line) => typeof (line[0] as any)?.expression === 'string').map((line) => (line[0] as any).expression);
    expect(expressions).toEqual(
      expect.arrayContaining([
        'IF(requests >= 100, 100 * FILL(serverErrors, 0) / requests, 0)',
        'IF(requests >= 100, 100 * FILL(clientErrors, 0) / requests, 0)',
      ]),
    );
  });

  test('per route: requests, 5xx and the 5xx rate of each route, by method and path', () => {
    for (const route of ROUTES) {
      const dims = { ApiId: `{{Ref:${base.fnIds.api}}}`, Stage: '$default', Method: route.method, Resource: route.path };
      // Each in its own graph, and again inside the rate's expression.
      expect(statsOf('AWS/ApiGateway', 'Count', dims)).toEqual(['Sum', 'Sum']);
      expect(statsOf('AWS/ApiGateway', '5xx', dims)).toEqual(['Sum', 'Sum']);
    }
    const rateGraph = body.widgets.find((w: any) => w.properties?.title === '5xx rate per route (%)');
    const expressions = rateGraph.properties.metrics.map((line: any[]) => line[0]?.expression).filter(Boolean);
    expect(expressions).toEqual(ROUTES.map((route) => {
      const id = route.id.charAt(0).toLowerCase() + route.id.slice(1);
      return `IF(FILL(${id}5xx, 0) >= 3, 100 * FILL(${id}5xx, 0) / ${id}Requests, 0)`;
    }));
    expect(rateGraph.properties.annotations.horizontal).toEqual([{ value: 5, label: 'route 5xx alarm', yAxis: 'left' }]);
  });

  test.each(ROUTE_IDS)('Lambda %s: invocations, errors, throttles, duration p99', (route) => {
    const fn = { FunctionName: `{{Ref:${base.fnIds[route]}}}` };
    for (const metric of ['Invocations', 'Errors', 'Throttles']) {
      expect(statsOf('AWS/Lambda', metric, fn)).toEqual(['Sum']);
    }
    expect(statsOf('AWS/Lambda', 'Duration', fn)).toEqual(['p99']);
  });

  test('DynamoDB: consumed read and write capacity, throttles and system errors per operation', () => {
    const table = `{{Ref:${base.fnIds.table}}}`;
    expect(statsOf('AWS/DynamoDB', 'ConsumedReadCapacityUnits', { TableName: table })).toEqual(['Sum']);
    expect(statsOf('AWS/DynamoDB', 'ConsumedWriteCapacityUnits', { TableName: table })).toEqual(['Sum']);
    for (const op of OPERATIONS) {
      expect(statsOf('AWS/DynamoDB', 'ThrottledRequests', { TableName: table, Operation: op })).toEqual(['Sum']);
      expect(statsOf('AWS/DynamoDB', 'SystemErrors', { TableName: table, Operation: op })).toEqual(['Sum']);
    }
  });

  test("the functions' own metrics: polls, messages, joins, leaves, retries, 503s and 500s", () => {
    for (const metric of Object.values(METRIC)) {
      expect(statsOf(METRICS_NAMESPACE, metric, { service: SERVICE_NAME })).toEqual(['Sum']);
    }
  });
});

describe('cdk-nag (AwsSolutions and Serverless)', () => {
  test.each([
    ['without', {}],
    ['with', { alarmEmail: 'ops@example.com' }],
  ])('no unacknowledged finding anywhere, %s an e-mail subscription', (_, overrides) => {
    const { app } = fixture(overrides);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
    expect(new ServerlessChecks().validateScope(app).violations).toEqual([]);
  });

  test('ChatMonitoring acknowledges nothing without a subscription', () => {
    expect(acknowledgementsUnder(base.monitoring)).toEqual([]);
  });

  test('with a subscription, only its redrive policy, with the reason', () => {
    const { monitoring } = fixture({ alarmEmail: 'ops@example.com' });
    expect(acknowledgementsUnder(monitoring)).toEqual([
      { path: monitoring.topic.emailSubscription!.node.path, id: 'Serverless-SNSRedrivePolicy', reason: expect.stringMatching(/only alarm state changes/) },
    ]);
  });

  test('the packs are live: a topic without enforceSSL and a bare e-mail subscription are findings', () => {
    const app = new App();
    const stack = new Stack(app, 'Canary');
    const topic = new sns.Topic(stack, 'Plain');
    topic.addSubscription(new subscriptions.EmailSubscription('ops@example.com'));
    expect(new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName)).toContain('AwsSolutions-SNS3');
    expect(new ServerlessChecks().validateScope(app).violations.map((v) => v.ruleName)).toContain('Serverless-SNSRedrivePolicy');
  });
});

describe('props are checked', () => {
  test.each([
    [{ namePrefix: 'Group Chat' }, /namePrefix/],
    [{ namePrefix: '' }, /namePrefix/],
    [{ functions: {} }, /no functions/],
    [{ alarmEmail: 'not-an-address' }, /alarmEmail/],
  ])('%j is refused', (overrides, message) => {
    expect(() => fixture(overrides as Partial<ChatMonitoringProps>)).toThrow(message);
  });
});
