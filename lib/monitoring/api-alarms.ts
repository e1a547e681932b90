/**
 * ApiAlarms: the stage's 5xx and 4xx rates, judged only with enough requests, and the dashboard row
 * of the API's requests, error rates and latency.
 */
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { MONITORING_PERIOD, type AlarmFactory } from './alarms';
import { graph } from './dashboard';

/** API rate alarms only judge windows with at least this many requests (≈ 2 clients polling every 5 s). */
const MIN_REQUESTS_FOR_RATE = 100;
/** The alarms' thresholds, in % of requests. */
const MAX_5XX_PERCENT = 1;
const MAX_4XX_PERCENT = 10;

export interface ApiAlarmsProps {
  /** The HTTP API; the alarms watch its stage `stageName`. */
  readonly httpApi: apigwv2.IHttpApi;
  /** @default '$default' */
  readonly stageName?: string;
}

export class ApiAlarms {
  /** Requests with their 4xx and 5xx, both error rates, and latency. */
  readonly graphs: cloudwatch.IWidget[];

  constructor(alarms: AlarmFactory, props: ApiAlarmsProps) {
    const apiMetric = (metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.httpApi.apiId, Stage: props.stageName ?? '$default' },
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

    alarms.alarm('Api5xxRate', {
      metric: serverErrorRate,
      threshold: MAX_5XX_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      description:
        `More than ${MAX_5XX_PERCENT} % of API requests answered 5xx in 5 minutes (with at least ${MIN_REQUESTS_FOR_RATE} requests). ` +
        'Clients see failures. Check the Lambda error/throttle alarms and DynamoDB alarms, then the access log (status, integrationError).',
    });
    alarms.alarm('Api4xxRate', {
      metric: clientErrorRate,
      threshold: MAX_4XX_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // Some 4xx are normal (expired tokens, a client's bad request); a sustained share is not.
      evaluationPeriods: 3,
      description:
        `More than ${MAX_4XX_PERCENT} % of API requests answered 4xx for 15 minutes (with at least ${MIN_REQUESTS_FOR_RATE} requests per 5 minutes). ` +
        'In the access log, group by status and routeKey: 429 = stage throttle too low, 401 = token/issuer/audience mismatch, 400 = a client sending bad requests.',
    });

    this.graphs = [
      graph('API requests, 4xx, 5xx', [requests, clientErrors, serverErrors]),
      graph('API error rates (%)', [serverErrorRate, clientErrorRate], [
        { value: MAX_5XX_PERCENT, label: '5xx alarm' },
        { value: MAX_4XX_PERCENT, label: '4xx alarm' },
      ]),
      graph('API latency (ms)', [
        apiMetric('Latency', cloudwatch.Stats.p(50), 'Latency p50'),
        apiMetric('Latency', cloudwatch.Stats.p(99), 'Latency p99'),
        apiMetric('IntegrationLatency', cloudwatch.Stats.p(99), 'Integration latency p99'),
      ]),
    ];
  }
}
