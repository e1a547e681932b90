/**
 * ChatDashboard: the state of every alarm, the graphs each alarm group draws of its own signals,
 * and the functions' own metrics (polls, messages, joins, leaves, retries, 503s and 500s).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { METRIC } from '../../lambda/contract';
import { chatMetric } from './answer-alarms';

const FULL_WIDTH = 24;

export interface ChatDashboardProps {
  readonly dashboardName: string;
  readonly alarms: cloudwatch.IAlarm[];
  /** One row of graphs per alarm group, top to bottom. */
  readonly rows: cloudwatch.IWidget[][];
}

export class ChatDashboard extends cloudwatch.Dashboard {
  constructor(scope: Construct, id: string, props: ChatDashboardProps) {
    super(scope, id, {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(6),
      widgets: [
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: FULL_WIDTH, height: 6 })],
        ...props.rows,
        [
          graph('Polls and messages', [chatMetric(METRIC.Polls), chatMetric(METRIC.LegacyPolls), chatMetric(METRIC.MessagesReturned), chatMetric(METRIC.MessagesSent)]),
          graph('Joins and leaves', [chatMetric(METRIC.Joins), chatMetric(METRIC.Leaves)]),
          graph('DynamoDB retries, 503s and 500s', [chatMetric(METRIC.DynamoDbRetries), chatMetric(METRIC.Unavailable), chatMetric(METRIC.Errors)]),
        ],
      ],
    });
  }
}

/** A graph 6 high (a third of a row by default), with a horizontal line at each alarm threshold given. */
export function graph(
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
