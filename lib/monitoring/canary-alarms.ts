/**
 * CanaryAlarms: what rolls a canary release back (lib/release.ts). They judge 1-minute periods, not
 * the 5 minutes of the other alarms, so that they can go off within the canary's 5 minutes:
 *
 * - `<Function>CanaryErrors`: the new version crashed or timed out (Lambda Errors ≥ 1 in a minute).
 *   The metric is the alias's with the dimension ExecutedVersion = the version this deploy published
 *   (FunctionName + Resource `<function>:live` + ExecutedVersion), so it counts the calls the new
 *   version served and none of the old one's. Between deploys it watches the version that is live.
 * - `CanaryApi5xxRate`: more than 1 % of the API's requests answered 5xx in two minutes in a row
 *   (with at least 20 requests a minute). The handlers answer their own failures with 500/503
 *   envelopes, which are not Lambda errors: this is where a release that fails that way shows.
 *   API Gateway's metrics do not say which version answered, so this alarm is shared by every
 *   function's deployment, and a canary only moves it when its 10 % make more than 1 % of all requests.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { AlarmFactory } from './alarms';

/** The rollback alarms' period: a few of them fit in the canary's 5 minutes. */
export const CANARY_ALARM_PERIOD = Duration.minutes(1);
const MIN_REQUESTS_PER_MINUTE = 20;
const MAX_5XX_PERCENT = 1;

export interface CanaryAlarmsProps {
  /** The live alias of each function, by function id. */
  readonly aliases: Record<string, lambda.Alias>;
  /** The HTTP API; the API alarm watches its stage `stageName`. */
  readonly httpApi: apigwv2.IHttpApi;
  /** @default '$default' */
  readonly stageName?: string;
}

/** The Lambda Errors of the version an alias's calls ran on, when that version is `version`. */
export function newVersionErrors(alias: lambda.Alias, period: Duration = CANARY_ALARM_PERIOD): cloudwatch.Metric {
  const functionName = alias.version.lambda.functionName;
  return new cloudwatch.Metric({
    namespace: 'AWS/Lambda',
    metricName: 'Errors',
    dimensionsMap: {
      FunctionName: functionName,
      // The alias by name (as Alias.metric() does), not by its ARN: no dependency cycle with CodeDeploy.
      Resource: `${functionName}:${alias.aliasName}`,
      ExecutedVersion: alias.version.version,
    },
    statistic: cloudwatch.Stats.SUM,
    period,
  });
}

export class CanaryAlarms {
  /** The alarms that roll each function's deployment back, by function id. */
  readonly rollbackAlarms: Record<string, cloudwatch.Alarm[]> = {};

  constructor(alarms: AlarmFactory, props: CanaryAlarmsProps) {
    const apiMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.httpApi.apiId, Stage: props.stageName ?? '$default' },
        statistic: cloudwatch.Stats.SUM,
        period: CANARY_ALARM_PERIOD,
      });
    const api5xx = alarms.alarm('CanaryApi5xxRate', {
      metric: new cloudwatch.MathExpression({
        expression: `IF(requests >= ${MIN_REQUESTS_PER_MINUTE}, 100 * FILL(serverErrors, 0) / requests, 0)`,
        usingMetrics: { requests: apiMetric('Count'), serverErrors: apiMetric('5xx') },
        period: CANARY_ALARM_PERIOD,
        label: '5xx rate (%), per minute',
      }),
      threshold: MAX_5XX_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      description:
        `Rolls a canary release back: more than ${MAX_5XX_PERCENT} % of API requests answered 5xx in two minutes in a row ` +
        `(with at least ${MIN_REQUESTS_PER_MINUTE} requests a minute). Outside a release it says the same as Api5xxRate, sooner.`,
    });

    for (const [functionId, alias] of Object.entries(props.aliases)) {
      const errors = alarms.alarm(`${functionId}CanaryErrors`, {
        metric: newVersionErrors(alias),
        threshold: 1,
        evaluationPeriods: 1,
        description:
          `Rolls a canary release of ${functionId} back: the version the live alias last moved to crashed or timed out in the last minute ` +
          '(Lambda Errors of that version only). Outside a release it watches the live version.',
      });
      this.rollbackAlarms[functionId] = [errors, api5xx];
    }
  }
}
