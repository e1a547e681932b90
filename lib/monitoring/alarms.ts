/**
 * What every alarm of ChatMonitoring shares: 5-minute periods, the name `<namePrefix>-<signal>`,
 * no data counts as fine, and the topic hears both ALARM and OK. AlarmFactory makes them so, and
 * keeps them all for the dashboard's alarm status widget.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/** Every alarm and every dashboard graph looks at 5-minute periods. */
export const MONITORING_PERIOD = Duration.minutes(5);

export interface AlarmOptions {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  /** Periods in a row that must breach (each of them: datapoints to alarm = evaluation periods). */
  readonly evaluationPeriods: number;
  /** What it means and where to look first (docs/operations.md has the runbook). */
  readonly description: string;
  /** @default GREATER_THAN_OR_EQUAL_TO_THRESHOLD */
  readonly comparisonOperator?: cloudwatch.ComparisonOperator;
  readonly evaluateLowSampleCountPercentile?: string;
}

export class AlarmFactory {
  /** Every alarm made so far, in order. */
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly action: cloudwatchActions.SnsAction;

  /** The alarms become children of `scope`, whichever group asks for them (lib/monitoring.ts says why). */
  constructor(
    private readonly scope: Construct,
    private readonly namePrefix: string,
    topic: sns.ITopic,
  ) {
    this.action = new cloudwatchActions.SnsAction(topic);
  }

  /** An alarm named `<namePrefix>-<name>` that tells the topic when it goes off and when it clears. */
  alarm(name: string, options: AlarmOptions): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this.scope, name, {
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
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }
}
