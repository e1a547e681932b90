/**
 * ChatFunction: a NodejsFunction with the defaults every route's function shares, its own log group,
 * its own least-privilege role, and the alias `live` that the API calls (each deploy publishes a
 * version; the alias moves to it at once or through CodeDeploy, lib/release.ts).
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DEADLINES, ENV, METRICS_NAMESPACE, SERVICE_NAME, TABLE, type Deadline } from '../lambda/contract';
import { BUNDLING, LAMBDA_RUNTIME, bundleInputHash } from './bundling';

/** The alias the API invokes: the release that serves users. */
export const LIVE_ALIAS = 'live';

/**
 * Powertools settings of every function (names from ENV): the logs' `service` and the
 * metrics' dimension and namespace. No Powertools Tracer is bundled (it cost +124 KB and ~30 ms of
 * cold-start CPU; active tracing gives the function's segments without it); should one be added,
 * it must not capture responses (message lists) into traces, so that is set off here already.
 */
export const OBSERVABILITY_ENV = {
  [ENV.serviceName]: SERVICE_NAME,
  [ENV.metricsNamespace]: METRICS_NAMESPACE,
  [ENV.tracerCaptureResponse]: 'false',
} as const;

/**
 * Time a function keeps after its route's deadline to answer its 503, flush its metrics and return
 * (lambda/http/api-handler.ts); the Lambda timeout is the deadline plus this, in whole seconds.
 */
export const ANSWER_MARGIN_MS = 500;

/**
 * The Lambda timeout of a route's function: its deadline plus the time to answer, rounded up to whole
 * seconds (4 s for a poll, 16 s for a write). So the handler answers its own 503 at the deadline
 * instead of being cut off, and it is well inside API Gateway's 30 s integration limit, so a client
 * never sees the gateway time out first. It is also the function's worst duration, which sizes its
 * reserved concurrency (lib/concurrency.ts).
 */
export function functionTimeout(deadline: Deadline): Duration {
  return Duration.seconds(Math.ceil((deadline.deadlineMs + ANSWER_MARGIN_MS) / 1000));
}

/**
 * Memory: a poll is I/O-bound (one or two small DynamoDB requests), but Lambda allots CPU in
 * proportion to memory, and CPU is what cold starts (parsing the bundled SDK) and serialising a page
 * of up to 200 messages spend. 512 MB starts and answers markedly faster than 128 MB while a warm
 * poll still costs well under a second of billed time; benchmarks may tune it.
 */
export const FUNCTION_MEMORY_MB = 512;

/** The one action an index ARN is granted: the legacy poll's Query by create_time. */
const INDEX_QUERY = 'dynamodb:Query';

export interface ChatFunctionProps {
  /** Handler source file (absolute path); it exports `handler`. */
  readonly entry: string;
  /** Project root: where package-lock.json and tsconfig.json are. */
  readonly projectRoot: string;
  readonly description?: string;
  /**
   * Its route's deadline (ROUTES): the Lambda timeout follows from it (functionTimeout).
   * @default DEADLINES.write
   */
  readonly deadline?: Deadline;
  /**
   * Concurrent executions reserved for it, which are also its ceiling (lib/concurrency.ts).
   * @default - none: it shares the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
  /** Extra environment variables (e.g. a local DynamoDB endpoint for `sam local invoke`). */
  readonly environment?: Record<string, string>;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** What happens to the log group when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Why the function needs no dead-letter queue (cdk-nag's Serverless-LambdaDLQ): who invokes it, and where a failure goes.
   * @default - the HTTP API invokes it synchronously: a failure is the client's 5xx
   */
  readonly deadLetterQueueReason?: string;
}

export class ChatFunction extends NodejsFunction {
  /**
   * The alias `live` on the version this deploy published: what the API invokes. Earlier versions
   * are kept (the default for `currentVersion`), so the alias can be pointed back at one.
   */
  readonly live: lambda.Alias;

  constructor(scope: Construct, id: string, props: ChatFunctionProps) {
    // The log group and role exist before the function, so they are children of the scope, not of it.
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // Our own role with no managed policy: AWSLambdaBasicExecutionRole may write to every log group.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${id} function`,
    });

    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      runtime: LAMBDA_RUNTIME,
      // Graviton: cheaper per GB-second, and the bundle is plain JavaScript.
      architecture: lambda.Architecture.ARM_64,
      // X-Ray: the function's own segments (init, invocation); no request or response is captured.
      tracing: lambda.Tracing.ACTIVE,
      // The inputs' hash names the asset: an unchanged function is not bundled again (lib/bundling.ts).
      bundling: { ...BUNDLING, assetHash: bundleInputHash(props.entry, props.projectRoot) },
      memorySize: FUNCTION_MEMORY_MB,
      timeout: functionTimeout(props.deadline ?? DEADLINES.write),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role,
      logGroup,
      // Every version stays when the next is published: the alias can be pointed back at it in seconds.
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
      description: props.description,
      environment: {
        // CDK does not set this for `bundling.sourceMap`; without it the source map goes unused.
        NODE_OPTIONS: '--enable-source-maps',
        ...OBSERVABILITY_ENV,
        ...props.environment,
      },
    });

    Validations.of(this).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        props.deadLetterQueueReason ??
        'Only API Gateway invokes the function, synchronously: a failure is the 5xx answer the client retries, ' +
          'and a dead-letter queue only ever receives failed asynchronous invocations, of which there are none.',
    });

    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, ' +
        'so they need Resource "*". Every other statement names its log group or table (pinned in the infra tests).',
    });

    // Exactly what the runtime needs to write this function's logs, on this log group only.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );

    this.live = new lambda.Alias(this, 'Live', { aliasName: LIVE_ALIAS, version: this.currentVersion });
  }

  /**
   * Lets the function use the table with exactly `actions`, and Query its `by_create_time` index when
   * it queries that (an index takes only Query and Scan: GetItem or BatchGetItem on its ARN would
   * grant nothing), and tells it the table's name.
   */
  bindTable(table: dynamodb.ITable, actions: readonly string[], options: { queriesCreateTimeIndex: boolean }): void {
    if (actions.length === 0 || actions.some((action) => !action.startsWith('dynamodb:'))) {
      throw new Error(`${this.node.path}: expected DynamoDB actions, got [${actions.join(', ')}]`);
    }
    this.addToRolePolicy(new iam.PolicyStatement({ actions: [...actions], resources: [table.tableArn] }));
    if (options.queriesCreateTimeIndex) {
      if (!actions.includes(INDEX_QUERY)) throw new Error(`${this.node.path}: queries the index, but ${INDEX_QUERY} is not among its actions`);
      this.addToRolePolicy(new iam.PolicyStatement({ actions: [INDEX_QUERY], resources: [`${table.tableArn}/index/${TABLE.createTimeIndex.name}`] }));
    }
    this.addEnvironment(ENV.tableName, table.tableName);
  }
}
