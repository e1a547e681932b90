/**
 * TableAlarms: DynamoDB throttles and system errors, summed over the operations the functions use,
 * and the dashboard row of the table's consumed capacity, throttles and system errors per operation.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { ROUTES } from '../../lambda/contract';
import { MONITORING_PERIOD, type AlarmFactory } from './alarms';
import { graph } from './dashboard';

/**
 * The table operations the routes' functions issue: ROUTES' DynamoDB actions, plus TransactWriteItems
 * when a route writes through transactions (IAM checks the actions of a transaction's items, but
 * CloudWatch reports its throttles and errors under the TransactWriteItems operation). The DynamoDB
 * throttle and system-error alarms sum exactly these.
 */
export const ROUTE_TABLE_OPERATIONS: readonly dynamodb.Operation[] = tableOperationsOf(
  ROUTES.flatMap((route) => [...route.dynamodbActions, ...(route.transactWrites ? [`dynamodb:${dynamodb.Operation.TRANSACT_WRITE_ITEMS}`] : [])]),
);

export interface TableAlarmsProps {
  readonly table: dynamodb.ITable;
  /**
   * The table operations to watch for throttling and system errors (at most 10: one alarm's math
   * expression may use 10 metrics).
   * @default ROUTE_TABLE_OPERATIONS — the operations the routes use
   */
  readonly tableOperations?: readonly dynamodb.Operation[];
}

export class TableAlarms {
  /** Consumed capacity, and throttled requests and system errors per operation. */
  readonly graphs: cloudwatch.IWidget[];

  constructor(alarms: AlarmFactory, props: TableAlarmsProps) {
    const operations = props.tableOperations ?? ROUTE_TABLE_OPERATIONS;
    if (operations.length === 0 || operations.length > 10) {
      throw new Error(`tableOperations: 1 to 10 operations (one alarm's math expression uses at most 10 metrics), got ${operations.length}`);
    }
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
    const throttledByOperation = perOperation('ThrottledRequests');
    const systemErrorsByOperation = perOperation('SystemErrors');

    alarms.alarm('DynamoDBThrottles', {
      metric: sumOf(throttledByOperation, 'Throttled requests'),
      threshold: 1,
      evaluationPeriods: 1,
      description:
        'DynamoDB throttled requests on the chat table (on-demand: a hot chapter partition, a traffic jump beyond 2x the previous peak, ' +
        'or an account/table limit). The SDK retries; sustained throttling becomes 503s. See the dashboard for the operation.',
    });
    alarms.alarm('DynamoDBSystemErrors', {
      metric: sumOf(systemErrorsByOperation, 'System errors'),
      threshold: 1,
      // An isolated DynamoDB 500 happens and is retried by the SDK; two windows in a row are an incident.
      evaluationPeriods: 2,
      description:
        'DynamoDB answered 500s (system errors) in two 5-minute windows in a row: a problem on the AWS side. ' +
        'Check the AWS Health Dashboard for DynamoDB in this region; the functions answer 503 meanwhile.',
    });

    this.graphs = [
      graph('DynamoDB consumed capacity', [
        props.table.metricConsumedReadCapacityUnits({ period: MONITORING_PERIOD, label: 'Read capacity units' }),
        props.table.metricConsumedWriteCapacityUnits({ period: MONITORING_PERIOD, label: 'Write capacity units' }),
      ]),
      graph('DynamoDB throttled requests', Object.values(throttledByOperation)),
      graph('DynamoDB system errors', Object.values(systemErrorsByOperation)),
    ];
  }
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

/**
 * The sum of per-operation metrics. FILL: each operation's metric only exists when it happened; a
 * plain sum would have no value whenever one operation had none, and the alarm would never see the others.
 */
function sumOf(metrics: Record<string, cloudwatch.Metric>, label: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: Object.keys(metrics).map((id) => `FILL(${id}, 0)`).join(' + '),
    usingMetrics: metrics,
    period: MONITORING_PERIOD,
    label,
  });
}

/** A metric id for a math expression: `GetItem` → `getItem`. */
function metricId(operation: string): string {
  return operation.charAt(0).toLowerCase() + operation.slice(1);
}
