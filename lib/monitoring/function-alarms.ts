/**
 * FunctionAlarms: three alarms per function — it crashed or timed out, Lambda throttled it, its p99
 * duration is too long — and the dashboard row that graphs the same metrics for every function.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { MONITORING_PERIOD, type AlarmFactory } from './alarms';
import { graph } from './dashboard';

/**
 * p99 Duration budget of a route's function. A warm poll takes ~10–30 ms and a send a few sequential
 * DynamoDB calls (well under 100 ms); Duration does not include cold-start init. p99 above 1 s means
 * DynamoDB calls are being retried or cut off (one timed-out attempt alone costs
 * a write's request timeout, 1.5 s): clients wait long, well before the function timeout.
 */
export const DEFAULT_P99_DURATION_THRESHOLD = Duration.seconds(1);

export interface FunctionAlarmsProps {
  /**
   * The function of each route, by route id (e.g. `{ FindGroupChat: fn, ... }`); one set of alarms
   * each. The p99 Duration threshold must be below each one's timeout, to warn before timeouts.
   */
  readonly functions: Record<string, lambda.Function>;
  /**
   * p99 Duration above which a function's alarm goes off (15 minutes in a row).
   * @default DEFAULT_P99_DURATION_THRESHOLD (1 s)
   */
  readonly p99DurationThreshold?: Duration;
}

export class FunctionAlarms {
  /** Invocations, errors, throttles and p99 duration, one line per function in each graph. */
  readonly graphs: cloudwatch.IWidget[];

  constructor(alarms: AlarmFactory, props: FunctionAlarmsProps) {
    const p99Threshold = props.p99DurationThreshold ?? DEFAULT_P99_DURATION_THRESHOLD;
    validate(props, p99Threshold);
    const lines: Record<'invocations' | 'errors' | 'throttles' | 'duration', cloudwatch.IMetric[]> = {
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
      lines.invocations.push(fn.metricInvocations({ period: MONITORING_PERIOD, statistic: cloudwatch.Stats.SUM, label: route }));
      lines.errors.push(errors.with({ label: route }));
      lines.throttles.push(throttles.with({ label: route }));
      lines.duration.push(p99.with({ label: route }));

      alarms.alarm(`${route}Errors`, {
        // Our handlers answer their own 500/503 envelopes, so a Lambda error is a crash or a timeout.
        metric: errors,
        threshold: 1,
        evaluationPeriods: 1,
        description:
          `${route}: the function crashed or timed out at least once in 5 minutes (handled failures answer 5xx and are not counted here). ` +
          `Look for the error or "Task timed out" in the function's log group.`,
      });
      alarms.alarm(`${route}Throttles`, {
        // Any throttle means an API request got a 5xx without the function running.
        metric: throttles,
        threshold: 1,
        evaluationPeriods: 1,
        description:
          `${route}: Lambda refused invocations (concurrency limit). Check the account's concurrent executions ` +
          `and any reserved concurrency; request a higher limit or lower the API stage throttle.`,
      });
      alarms.alarm(`${route}P99Duration`, {
        metric: p99,
        threshold: p99Threshold.toMilliseconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        // Slowness, not an outage: 15 minutes in a row before anyone is told.
        evaluationPeriods: 3,
        // The p99 of a handful of invocations is their maximum: quiet periods do not count.
        evaluateLowSampleCountPercentile: 'ignore',
        description:
          `${route}: p99 duration above ${p99Threshold.toMilliseconds()} ms for 15 minutes (timeout ${timeoutOf(fn).toSeconds()} s; ` +
          `a warm call takes tens of ms). Usually DynamoDB calls being retried: check the table's throttles, system errors and latency.`,
      });
    }

    this.graphs = [
      graph('Lambda invocations', lines.invocations, [], 6),
      graph('Lambda errors', lines.errors, [], 6),
      graph('Lambda throttles', lines.throttles, [], 6),
      graph('Lambda duration p99 (ms)', lines.duration, [{ value: p99Threshold.toMilliseconds(), label: 'alarm' }], 6),
    ];
  }
}

/** Lambda's default when a function sets none. */
const LAMBDA_DEFAULT_TIMEOUT = Duration.seconds(3);

function timeoutOf(fn: lambda.Function): Duration {
  return fn.timeout ?? LAMBDA_DEFAULT_TIMEOUT;
}

function validate(props: FunctionAlarmsProps, p99Threshold: Duration): void {
  if (Object.keys(props.functions).length === 0) throw new Error('no functions to monitor');
  for (const [route, fn] of Object.entries(props.functions)) {
    if (p99Threshold.toMilliseconds() >= timeoutOf(fn).toMilliseconds()) {
      throw new Error(
        `p99DurationThreshold (${p99Threshold.toMilliseconds()} ms) must be below the timeout of ${route} (${timeoutOf(fn).toMilliseconds()} ms): ` +
          'at the timeout the Errors alarm already fires',
      );
    }
  }
}
