/**
 * ChatMonitoring: CloudWatch alarms on the signals that tell whether the chat works, an SNS topic
 * every alarm notifies (ALARM and OK), and one dashboard that shows the same signals.
 * docs/operations.md has the runbook for each alarm. Its parts, in lib/monitoring/:
 *
 *   alarm-topic.ts      the topic, its policy, the optional e-mail subscription
 *   alarms.ts           what every alarm shares (period, name, actions)
 *   function-alarms.ts  per function: crashes and timeouts, throttles, p99 duration
 *   api-alarms.ts       the API stage's 5xx and 4xx rates, and each route's 5xx rate
 *   answer-alarms.ts    the requests the functions answered 503 or 500 (their own metrics)
 *   table-alarms.ts     DynamoDB throttles and system errors
 *   push-alarms.ts      the push fan-out behind its stream or giving up, the WebSocket API's errors
 *   canary-alarms.ts    per minute, what rolls a canary release back (stages that release by canary)
 *   dashboard.ts        alarm status, each group's graphs, the functions' own metrics
 */
import { Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AlarmTopic } from './monitoring/alarm-topic';
import { AlarmFactory } from './monitoring/alarms';
import { AnswerAlarms } from './monitoring/answer-alarms';
import { ApiAlarms, type ApiAlarmsProps } from './monitoring/api-alarms';
import { CanaryAlarms } from './monitoring/canary-alarms';
import { ChatDashboard } from './monitoring/dashboard';
import { FunctionAlarms, type FunctionAlarmsProps } from './monitoring/function-alarms';
import { PushAlarms, type PushAlarmsProps } from './monitoring/push-alarms';
import { TableAlarms, type TableAlarmsProps } from './monitoring/table-alarms';

/**
 * Alarm names are `<namePrefix>-<signal>` (alarm names are per region: the stack's name keeps them
 * apart); the dashboard is named `<namePrefix>-<region>` (dashboard names are per account: the same
 * stack in two regions needs two). Both must stay within what CloudWatch accepts for dashboard names.
 */
const NAME_PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,200}$/;

export interface ChatMonitoringProps extends FunctionAlarmsProps, ApiAlarmsProps, TableAlarmsProps {
  /** Prefixes every alarm name and the dashboard's, e.g. `GroupChat-prod`. Letters, digits, `-` and `_`. */
  readonly namePrefix: string;
  /**
   * The live alias of each function, when releases are canaries: adds the 1-minute alarms that roll
   * a release back (`rollbackAlarms`).
   * @default - no canary alarms
   */
  readonly canaryAliases?: Record<string, lambda.Alias>;
  /**
   * E-mail address subscribed to the alarm topic (it must confirm the subscription from the e-mail SNS sends).
   * @default - no subscription; subscribe to `topic` by other means
   */
  readonly alarmEmail?: string;
  /**
   * The push side (lib/push.ts): adds its alarms and a dashboard row.
   * @default - no push alarms
   */
  readonly push?: PushAlarmsProps;
}

export class ChatMonitoring extends Construct {
  /** Every alarm publishes its ALARM and OK transitions here. */
  readonly topic: AlarmTopic;
  readonly alarms: cloudwatch.Alarm[];
  /** With `canaryAliases`: the alarms that roll each function's canary release back, by function id. */
  readonly rollbackAlarms?: Record<string, cloudwatch.Alarm[]>;
  readonly dashboard: ChatDashboard;

  constructor(scope: Construct, id: string, props: ChatMonitoringProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.namePrefix) && !NAME_PREFIX_PATTERN.test(props.namePrefix)) {
      throw new Error(`namePrefix must be 1-200 letters, digits, "-" or "_" (it names the dashboard): ${props.namePrefix}`);
    }
    this.topic = new AlarmTopic(this, 'AlarmTopic', { namePrefix: props.namePrefix, alarmEmail: props.alarmEmail });

    // The alarm groups are plain classes, not constructs: every alarm stays a child of this construct,
    // so its logical id is what it was. Under a group construct each id would change, and
    // CloudFormation would create each (named) alarm anew, which fails on the name already taken.
    const alarms = new AlarmFactory(this, props.namePrefix, this.topic);
    const functionAlarms = new FunctionAlarms(alarms, props);
    const apiAlarms = new ApiAlarms(alarms, props);
    new AnswerAlarms(alarms);
    const tableAlarms = new TableAlarms(alarms, props);
    const pushAlarms = props.push && new PushAlarms(alarms, props.push);
    if (props.canaryAliases) this.rollbackAlarms = new CanaryAlarms(alarms, { ...props, aliases: props.canaryAliases }).rollbackAlarms;
    this.alarms = alarms.alarms;

    this.dashboard = new ChatDashboard(this, 'Dashboard', {
      dashboardName: `${props.namePrefix}-${Stack.of(this).region}`,
      alarms: this.alarms,
      rows: [apiAlarms.graphs, apiAlarms.routeGraphs, functionAlarms.graphs, tableAlarms.graphs, ...(pushAlarms ? [pushAlarms.graphs] : [])],
    });
  }
}
