/**
 * ChatMonitoring: CloudWatch alarms on the signals that tell whether the chat works (Lambda crashes,
 * throttles and slowness; API 5xx and 4xx rates; DynamoDB throttling and system errors), an SNS
 * topic every alarm notifies (ALARM and OK), an optional e-mail subscription, and one dashboard that
 * shows the same signals. docs/operations.md has the runbook for each alarm.
 */
import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME, type MetricName } from '../lambda/observability';
import { ROUTES } from '../lambda/routes';

/** Every alarm and every dashboard graph looks at 5-minute periods. */
export const MONITORING_PERIOD = Duration.minutes(5);

/**
 * p99 Duration budget of a route's function. A warm poll takes ~10–30 ms and a send a few sequential
 * DynamoDB calls (well under 100 ms); Duration does not include cold-start init. p99 above 1 s means
 * DynamoDB calls are being retried or cut off (one timed-out attempt alone costs
 * DYNAMODB_TIMEOUTS.requestTimeoutMs, 1.5 s): clients wait long, well before the function timeout.
 */
export const DEFAULT_P99_DURATION_THRESHOLD = Duration.seconds(1);

/**
 * The table operations the routes' functions issue (from ROUTES' DynamoDB actions): the DynamoDB
 * throttle and system-error alarms sum exactly these.
 */
export const ROUTE_TABLE_OPERATIONS: readonly dynamodb.Operation[] = tableOperationsOf(
  ROUTES.flatMap((route) => route.dynamodbActions),
);

/** API rate alarms only judge windows with at least this many requests (≈ 2 clients polling every 5 s). */
const MIN_REQUESTS_FOR_RATE = 100;

/**
 * Alarm names are `<namePrefix>-<signal>`; the dashboard is named `<namePrefix>`. Both must stay
 * within what CloudWatch accepts for dashboard names.
 */
const NAME_PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,200}$/;

export interface ChatMonitoringProps {
  /** Names the dashboard and prefixes every alarm name, e.g. `GroupChat-prod`. Letters, digits, `-` and `_`. */
  readonly namePrefix: string;
  /** The function of each route, by route id (e.g. `{ FindGroupChat: fn, ... }`); one set of alarms each. */
  readonly functions: Record<string, lambda.IFunction>;
  /** The functions' timeout: the p99 Duration threshold must be below it to warn before timeouts. */
  readonly functionTimeout: Duration;
  /**
   * p99 Duration above which a function's alarm goes off (15 minutes in a row).
   * @default DEFAULT_P99_DURATION_THRESHOLD (1 s)
   */
  readonly p99DurationThreshold?: Duration;
  /** The HTTP API; the alarms watch its stage `stageName`. */
  readonly httpApi: apigwv2.IHttpApi;
  /** @default '$default' */
  readonly stageName?: string;
  readonly table: dynamodb.ITable;
  /**
   * The table operations to watch for throttling and system errors (at most 10: one alarm's math
   * expression may use 10 metrics).
   * @default ROUTE_TABLE_OPERATIONS — the operations the routes use
   */
  readonly tableOperations?: readonly dynamodb.Operation[];
  /**
   * E-mail address subscribed to the alarm topic (it must confirm the subscription from the e-mail SNS sends).
   * @default - no subscription; subscribe to `topic` by other means
   */
  readonly alarmEmail?: string;
}

export class ChatMonitoring extends Construct {
  /** Every alarm publishes its ALARM and OK transitions here. */
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  /** The e-mail subscription, when `alarmEmail` is given. */
  readonly emailSubscription?: sns.Subscription;

  private readonly namePrefix: string;

  constructor(scope: Construct, id: string, props: ChatMonitoringProps) {
    super(scope, id);
    validate(props);
    this.namePrefix = props.namePrefix;
    const stack = Stack.of(this);
    const p99Threshold = props.p99DurationThreshold ?? DEFAULT_P99_DURATION_THRESHOLD;
    const operations = props.tableOperations ?? ROUTE_TABLE_OPERATIONS;
    const stageName = props.stageName ?? '$default';

    // Not encrypted at rest, on purpose. The messages are alarm state changes (alarm name, description,
    // metric, threshold): no chat content, no user data, no secrets. CloudWatch cannot publish to a
    // topic under the AWS-managed aws/sns key, so encryption would take a customer-managed key whose
    // policy lets cloudwatch.amazonaws.com use it ($1/month plus a failure mode: a wrong or disabled
    // key silently drops every alarm notification) to protect nothing of value. In transit, publishing
    // without TLS is denied (enforceSSL). Neither AwsSolutions nor Serverless (cdk-nag 3.0.2) has a
    // topic-encryption rule, so nothing is acknowledged for this.
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${props.namePrefix} alarms`,
      enforceSSL: true,
    });
    // The topic policy that enforceSSL creates replaces SNS's default policy (which allowed publishing
    // from the owning account), so CloudWatch's right to publish is stated here rather than assumed:
    // for this account's alarms named <namePrefix>-* only (no confused deputy).
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: `${props.namePrefix}-*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );

    if (props.alarmEmail) {
      this.emailSubscription = this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      Validations.of(this.emailSubscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'The topic carries only alarm state changes. One that SNS cannot deliver to the mailbox after its retries ' +
          "loses nothing: the alarm's state and history stay in CloudWatch and on the dashboard's alarm status widget. " +
          'A dead-letter queue would keep copies nobody reads, and an alarm on it could only notify through this same topic.',
      });
    }

    // --- Lambda: one set of alarms per route's function ---
    const lambdaWidgets: Record<'invocations' | 'errors' | 'throttles' | 'duration', cloudwatch.IMetric[]> = {
      invocations: [],
      errors: [],
      throttles: [],
      duration: [],
    };
    for (const [route, fn] of Object.entries(props.functions)) {
      // No label on an alarm's metric: the alarm keeps CloudWatch's plain single-metric form.
      const errors = fn.metricErrors({ period: MONITORING_PERIOD, statistic: cloudwatch.Stats.SUM });
      const throttles = fn.metricThrottles({ period: MONITORING_PERIOD, statistic: cloudwatch.Stats.SUM });
      const p99 = fn.metricDuration({ period: MONITORING_PERIOD, statistic: cloudwatch.Stats.p(99) });
      lambdaWidgets.invocations.push(fn.metricInvocations({ period: MONITORING_PERIOD, statistic: cloudwatch.Stats.SUM, label: route }));
      lambdaWidgets.errors.push(errors.with({ label: route }));
      lambdaWidgets.throttles.push(throttles.with({ label: route }));
      lambdaWidgets.duration.push(p99.with({ label: route }));

      this.alarm(`${route}Errors`, {
        // Our handlers answer their own 500/503 envelopes, so a Lambda error is a crash or a timeout.
        metric: errors,
        threshold: 1,
        evaluationPeriods: 1,
        description:
          `${route}: the function crashed or timed out at least once in 5 minutes (handled failures answer 5xx and are not counted here). ` +
          `Look for the error or "Task timed out" in the function's log group.`,
      });
      this.alarm(`${route}Throttles`, {
        // Any throttle means an API request got a 5xx without the function running.
        metric: throttles,
        threshold: 1,
        evaluationPeriods: 1,
        description:
          `${route}: Lambda refused invocations (concurrency limit). Check the account's concurrent executions ` +
          `and any reserved concurrency; request a higher limit or lower the API stage throttle.`,
      });
      this.alarm(`${route}P99Duration`, {
        metric: p99,
        threshold: p99Threshold.toMilliseconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        // Slowness, not an outage: 15 minutes in a row before anyone is told.
        evaluationPeriods: 3,
        // The p99 of a handful of invocations is their maximum: quiet periods do not count.
        evaluateLowSampleCountPercentile: 'ignore',
        description:
          `${route}: p99 duration above ${p99Threshold.toMilliseconds()} ms for 15 minutes (timeout ${props.functionTimeout.toSeconds()} s; ` +
          `a warm call takes tens of ms). Usually DynamoDB calls being retried: check the table's throttles, system errors and latency.`,
      });
    }

    // --- API: error rates of the stage, judged only with enough requests ---
    const apiMetric = (metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.httpApi.apiId, Stage: stageName },
        statistic,
        period: MONITORING_PERIOD,
        label,
      });
    const requests = apiMetric('Count', cloudwatch.Stats.SUM, 'Requests');
    const serverErrors = apiMetric('5xx', cloudwatch.Stats.SUM, '5xx');
    const clientErrors = apiMetric('4xx', cloudwatch.Stats.SUM, '4xx');
    const rate = (errorsId: string, errors: cloudwatch.Metric, label: string) =>
      new cloudwatch.MathExpression({
        // A window with no request has no value (no data: not breaching); one with too few is 0.
        expression: `IF(requests >= ${MIN_REQUESTS_FOR_RATE}, 100 * FILL(${errorsId}, 0) / requests, 0)`,
        usingMetrics: { requests, [errorsId]: errors },
        period: MONITORING_PERIOD,
        label,
      });
    const serverErrorRate = rate('serverErrors', serverErrors, '5xx rate (%)');
    const clientErrorRate = rate('clientErrors', clientErrors, '4xx rate (%)');
    this.alarm('Api5xxRate', {
      metric: serverErrorRate,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      description:
        `More than 1 % of API requests answered 5xx in 5 minutes (with at least ${MIN_REQUESTS_FOR_RATE} requests). ` +
        'Clients see failures. Check the Lambda error/throttle alarms and DynamoDB alarms, then the access log (status, integrationError).',
    });
    this.alarm('Api4xxRate', {
      metric: clientErrorRate,
      threshold: 10,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // Some 4xx are normal (expired tokens, a client's bad request); a sustained share is not.
      evaluationPeriods: 3,
      description:
        `More than 10 % of API requests answered 4xx for 15 minutes (with at least ${MIN_REQUESTS_FOR_RATE} requests per 5 minutes). ` +
        'In the access log, group by status and routeKey: 429 = stage throttle too low, 401 = token/issuer/audience mismatch, 400 = a client sending bad requests.',
    });

    // --- DynamoDB: throttles and system errors across the operations the functions use ---
    const perOperation = (metricName: string) =>
      Object.fromEntries(
        operations.map((operation) => [
          metricId(operation),
          new cloudwatch.Metric({
            namespace: 'AWS/DynamoDB',
            metricName,
            dimensionsMap: { TableName: props.table.tableName, Operation: operation },
            statistic: cloudwatch.Stats.SUM,
            period: MONITORING_PERIOD,
            label: operation,
          }),
        ]),
      );
    // FILL: each operation's metric only exists when it happened; a plain sum would have no value
    // whenever one operation had none, and the alarm would never see the others.
    const sumOf = (metrics: Record<string, cloudwatch.Metric>, label: string) =>
      new cloudwatch.MathExpression({
        expression: Object.keys(metrics).map((id) => `FILL(${id}, 0)`).join(' + '),
        usingMetrics: metrics,
        period: MONITORING_PERIOD,
        label,
      });
    const throttledByOperation = perOperation('ThrottledRequests');
    const systemErrorsByOperation = perOperation('SystemErrors');
    this.alarm('DynamoDBThrottles', {
      metric: sumOf(throttledByOperation, 'Throttled requests'),
      threshold: 1,
      evaluationPeriods: 1,
      description:
        'DynamoDB throttled requests on the chat table (on-demand: a hot chapter partition, a traffic jump beyond 2x the previous peak, ' +
        'or an account/table limit). The SDK retries; sustained throttling becomes 503s. See the dashboard for the operation.',
    });
    this.alarm('DynamoDBSystemErrors', {
      metric: sumOf(systemErrorsByOperation, 'System errors'),
      threshold: 1,
      // An isolated DynamoDB 500 happens and is retried by the SDK; two windows in a row are an incident.
      evaluationPeriods: 2,
      description:
        'DynamoDB answered 500s (system errors) in two 5-minute windows in a row: a problem on the AWS side. ' +
        'Check the AWS Health Dashboard for DynamoDB in this region; the functions answer 503 meanwhile.',
    });

    // --- Dashboard: the same signals, plus the state of every alarm ---
    const apiLatency = (statistic: string, label: string) => apiMetric('Latency', statistic, label);
    // The functions' own metrics (Embedded Metric Format, lambda/observability.ts), summed per period.
    const chat = (name: MetricName) =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { service: SERVICE_NAME }, statistic: 'Sum', period: MONITORING_PERIOD });
    const fullWidth = 24;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.namePrefix,
      defaultInterval: Duration.hours(6),
      widgets: [
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: fullWidth, height: 6 })],
        [
          graph('API requests, 4xx, 5xx', [requests, clientErrors, serverErrors]),
          graph('API error rates (%)', [serverErrorRate, clientErrorRate], [
            { value: 1, label: '5xx alarm' },
            { value: 10, label: '4xx alarm' },
          ]),
          graph('API latency (ms)', [
            apiLatency(cloudwatch.Stats.p(50), 'Latency p50'),
            apiLatency(cloudwatch.Stats.p(99), 'Latency p99'),
            apiMetric('IntegrationLatency', cloudwatch.Stats.p(99), 'Integration latency p99'),
          ]),
        ],
        [
          graph('Lambda invocations', lambdaWidgets.invocations, [], 6),
          graph('Lambda errors', lambdaWidgets.errors, [], 6),
          graph('Lambda throttles', lambdaWidgets.throttles, [], 6),
          graph('Lambda duration p99 (ms)', lambdaWidgets.duration, [{ value: p99Threshold.toMilliseconds(), label: 'alarm' }], 6),
        ],
        [
          graph('DynamoDB consumed capacity', [
            props.table.metricConsumedReadCapacityUnits({ period: MONITORING_PERIOD, label: 'Read capacity units' }),
            props.table.metricConsumedWriteCapacityUnits({ period: MONITORING_PERIOD, label: 'Write capacity units' }),
          ]),
          graph('DynamoDB throttled requests', Object.values(throttledByOperation)),
          graph('DynamoDB system errors', Object.values(systemErrorsByOperation)),
        ],
        [
          graph('Polls and messages', [chat(METRIC.Polls), chat(METRIC.LegacyPolls), chat(METRIC.MessagesReturned), chat(METRIC.MessagesSent)]),
          graph('Joins and leaves', [chat(METRIC.Joins), chat(METRIC.Leaves)]),
          graph('DynamoDB retries, 503s and 500s', [chat(METRIC.DynamoDbRetries), chat(METRIC.Unavailable), chat(METRIC.Errors)]),
        ],
      ],
    });
  }

  /** An alarm named `<namePrefix>-<name>` that tells the topic when it goes off and when it clears. */
  private alarm(
    name: string,
    options: {
      metric: cloudwatch.IMetric;
      threshold: number;
      evaluationPeriods: number;
      description: string;
      comparisonOperator?: cloudwatch.ComparisonOperator;
      evaluateLowSampleCountPercentile?: string;
    },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, name, {
      alarmName: `${this.namePrefix}-${name}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods,
      datapointsToAlarm: options.evaluationPeriods,
      // Every signal here only exists when something happens (requests, invocations, errors): no data is no problem.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluateLowSampleCountPercentile: options.evaluateLowSampleCountPercentile,
    });
    const action = new cloudwatchActions.SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    return alarm;
  }
}

function graph(
  title: string,
  metrics: cloudwatch.IMetric[],
  thresholds: Array<{ value: number; label: string }> = [],
  width = 8,
): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({
    title,
    left: metrics,
    leftAnnotations: thresholds.map(({ value, label }) => ({ value, label })),
    width,
    height: 6,
  });
}

/** DynamoDB operations from IAM actions (`dynamodb:GetItem` → GetItem), each once. */
export function tableOperationsOf(actions: readonly string[]): dynamodb.Operation[] {
  const known = new Set<string>(Object.values(dynamodb.Operation));
  const operations = [...new Set(actions.map((action) => action.replace(/^dynamodb:/, '')))];
  for (const operation of operations) {
    if (!known.has(operation)) throw new Error(`not a DynamoDB operation with CloudWatch metrics: ${operation}`);
  }
  return operations.sort() as dynamodb.Operation[];
}

/** A metric id for a math expression: `GetItem` → `getItem`. */
function metricId(operation: string): string {
  return operation.charAt(0).toLowerCase() + operation.slice(1);
}

function validate(props: ChatMonitoringProps): void {
  if (!Token.isUnresolved(props.namePrefix) && !NAME_PREFIX_PATTERN.test(props.namePrefix)) {
    throw new Error(`namePrefix must be 1-200 letters, digits, "-" or "_" (it names the dashboard): ${props.namePrefix}`);
  }
  if (Object.keys(props.functions).length === 0) throw new Error('no functions to monitor');
  const threshold = props.p99DurationThreshold ?? DEFAULT_P99_DURATION_THRESHOLD;
  if (threshold.toMilliseconds() >= props.functionTimeout.toMilliseconds()) {
    throw new Error(
      `p99DurationThreshold (${threshold.toMilliseconds()} ms) must be below functionTimeout (${props.functionTimeout.toMilliseconds()} ms): ` +
        'at the timeout the Errors alarm already fires',
    );
  }
  const operations = props.tableOperations ?? ROUTE_TABLE_OPERATIONS;
  if (operations.length === 0 || operations.length > 10) {
    throw new Error(`tableOperations: 1 to 10 operations (one alarm's math expression uses at most 10 metrics), got ${operations.length}`);
  }
  if (props.alarmEmail !== undefined && !Token.isUnresolved(props.alarmEmail) && !/^[^@\s]+@[^@\s]+$/.test(props.alarmEmail)) {
    throw new Error(`alarmEmail is not an e-mail address: ${props.alarmEmail}`);
  }
}
