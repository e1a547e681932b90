/**
 * AnswerAlarms: the requests our handlers answered 503 or 500, from the functions' own metrics
 * (METRIC.Unavailable and METRIC.Errors, lambda/contract/metrics.ts). A handled failure is an
 * answer, so Lambda's Errors metric never sees it: these are what tells of it. Every 503 is counted
 * (a throttling or failing database, a deadline passed, a contended send that gave up); every 500 is a bug.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME, type MetricName } from '../../lambda/contract';
import { MONITORING_PERIOD, type AlarmFactory } from './alarms';

/** 503s in 5 minutes that make an incident: a few are a blip the clients' retries absorb (a second of throttling). */
const MAX_503S = 10;

/** One of the functions' own metrics (Embedded Metric Format), summed per period: all functions together (one dimension, `service`). */
export function chatMetric(name: MetricName): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { service: SERVICE_NAME }, statistic: cloudwatch.Stats.SUM, period: MONITORING_PERIOD });
}

export class AnswerAlarms {
  constructor(alarms: AlarmFactory) {
    alarms.alarm('Answered503', {
      metric: chatMetric(METRIC.Unavailable),
      threshold: MAX_503S,
      evaluationPeriods: 1,
      description:
        `The functions answered at least ${MAX_503S} requests with 503 in 5 minutes (the database throttled or failed beyond the retries, ` +
        'a deadline passed, or a contended send gave up). The Route5xxRate alarms say which route; the function\'s log group has a line per 503 ' +
        '(error name, DynamoDB request id); DynamoDB Contributor Insights shows a hot chapter.',
    });
    alarms.alarm('Answered500', {
      metric: chatMetric(METRIC.Errors),
      threshold: 1,
      evaluationPeriods: 1,
      description:
        'A function answered 500 at least once in 5 minutes: a bug (an error no rule turns into a status). ' +
        'Find the "request failed" line with status 500 and its stack in the functions\' log groups.',
    });
  }
}
