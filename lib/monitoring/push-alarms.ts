/**
 * PushAlarms: the push side (lib/push.ts) — the fan-out falling behind its stream, batches it gave
 * up on, and the WebSocket API failing to run its functions — and the dashboard row of the same
 * signals with the API's connects and messages. The push functions' crashes, throttles and p99
 * duration are FunctionAlarms', like every function's.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { MONITORING_PERIOD, type AlarmFactory } from './alarms';
import { graph } from './dashboard';

/**
 * How far behind its stream the fan-out may fall (the age of the newest record of a batch when the
 * function got it). Pushes aim at p99 ≤ 500 ms; records older than PUSH_STREAM.maxRecordAgeSeconds
 * (60 s) are dropped to the on-failure queue, so between the two, for 10 minutes, is "falling behind".
 */
export const MAX_ITERATOR_AGE = Duration.seconds(10);
/** WebSocket integration errors (4xx/5xx from a push function) tolerated in 5 minutes: a $connect refused for a member who just left is one. */
export const MAX_INTEGRATION_ERRORS = 5;

export interface PushAlarmsProps {
  /** The WebSocket API; the alarms watch its stage `pushStageName`. */
  readonly pushApi: apigwv2.IWebSocketApi;
  readonly pushStageName: string;
  /** The function the table's stream feeds. */
  readonly fanout: lambda.IFunction;
  /** The fan-out's on-failure destination: a message there is a batch whose pushes were given up. */
  readonly fanoutFailures: sqs.IQueue;
}

export class PushAlarms {
  /** Connects and messages, the API's errors, the stream's delay, the given-up batches. */
  readonly graphs: cloudwatch.IWidget[];

  constructor(alarms: AlarmFactory, props: PushAlarmsProps) {
    const apiMetric = (metricName: string, label?: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.pushApi.apiId, Stage: props.pushStageName },
        statistic: cloudwatch.Stats.SUM,
        period: MONITORING_PERIOD,
        label,
      });
    // No label on an alarm's metric: the alarm keeps CloudWatch's plain single-metric form.
    const iteratorAge = props.fanout.metric('IteratorAge', { statistic: cloudwatch.Stats.MAXIMUM, period: MONITORING_PERIOD });
    const failedBatches = props.fanoutFailures.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: MONITORING_PERIOD });
    const executionErrors = apiMetric('ExecutionError');
    const integrationErrors = apiMetric('IntegrationError');

    alarms.alarm('PushFanoutIteratorAge', {
      metric: iteratorAge,
      threshold: MAX_ITERATOR_AGE.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // A retried batch holds its shard back for a moment; ten minutes of it is falling behind.
      evaluationPeriods: 2,
      description:
        `The push fan-out is more than ${MAX_ITERATOR_AGE.toSeconds()} s behind the table's stream for 10 minutes: pushes arrive late, ` +
        'and records older than 60 s are dropped (clients recover them by polling). Look at the fan-out\'s errors, duration and throttles, then its log group.',
    });
    alarms.alarm('PushFanoutFailedBatches', {
      metric: failedBatches,
      threshold: 1,
      evaluationPeriods: 1,
      description:
        'The push fan-out gave up on stream records after their retries (or they aged past 60 s): their pushes were never sent; clients recover ' +
        'the messages by polling. The queue holds the batches\' shard and sequence numbers. Find the cause in the fan-out\'s log group, then purge the queue.',
    });
    alarms.alarm('PushApiExecutionErrors', {
      metric: executionErrors,
      threshold: 1,
      evaluationPeriods: 1,
      description:
        'The WebSocket API could not run a push function (its permission, Lambda throttling, a malformed answer): connects, pings or ' +
        'disconnects failed. Check the push functions\' throttles and errors, then the push access log (status, integrationError, error).',
    });
    alarms.alarm('PushApiIntegrationErrors', {
      metric: integrationErrors,
      threshold: MAX_INTEGRATION_ERRORS,
      evaluationPeriods: 1,
      description:
        `At least ${MAX_INTEGRATION_ERRORS} push requests in 5 minutes got a 4xx/5xx from their function (a refused $connect, a storage failure). ` +
        'Group the push access log by routeKey, status and integrationError; check the DynamoDB alarms.',
    });

    this.graphs = [
      graph('Push connects and messages', [apiMetric('ConnectCount', 'Connects'), apiMetric('MessageCount', 'Messages (both ways)')], [], 6),
      graph('Push API errors', [
        apiMetric('ClientError', 'Client errors (refused before a function ran)'),
        integrationErrors.with({ label: 'Integration errors' }),
        executionErrors.with({ label: 'Execution errors' }),
      ], [{ value: MAX_INTEGRATION_ERRORS, label: 'integration errors alarm' }], 6),
      graph('Push stream delay (ms)', [iteratorAge.with({ label: 'Fan-out iterator age (max)' })], [{ value: MAX_ITERATOR_AGE.toMilliseconds(), label: 'alarm' }], 6),
      graph('Push batches given up', [failedBatches.with({ label: 'On-failure queue depth (max)' })], [{ value: 1, label: 'alarm' }], 6),
    ];
  }
}
