/**
 * ChatPush: new messages pushed to connected members (issue 15), built from the push contract
 * (lambda/contract/push.ts) as ChatApi's routes are built from ROUTES:
 *
 *   client ──wss──▶ WebSocket API ──$connect──▶ PushAuthorize (REQUEST authorizer) ──▶ PushConnect ──▶ ChatTable (subscriptions)
 *                                  ──$disconnect▶ PushDisconnect        ──ping──▶ MOCK integration (API Gateway answers the pong itself)
 *   ChatTable's stream (filtered: new messages, members gone) ──▶ PushFanout ──PostToConnection──▶ the chapter's connections
 *                                                         failed batches, after their retries ──▶ SQS on-failure queue
 *
 * Every function is a ChatFunction with exactly its DynamoDB actions, and API Gateway and the
 * stream's event source mapping invoke its `live` alias, as the HTTP API does. A route that needs no
 * function (the keep-alive) is a MOCK integration answering its fixed frame. The stage is throttled
 * and writes one JSON access-log line per request, like the HTTP API's.
 */
import * as path from 'node:path';
import { Duration, Stack, Validations, type CfnElement, type RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration, WebSocketMockIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import {
  DEADLINES,
  ENV,
  LOCAL_PUSH_PATH,
  PUSH_AUTHORIZER,
  PUSH_FANOUT,
  PUSH_MOCK_ROUTES,
  PUSH_ROUTE_SELECTION_EXPRESSION,
  PUSH_ROUTES,
  PUSH_STREAM,
  type PushFunctionSpec,
  type PushMockRouteSpec,
} from '../lambda/contract';
import type { Authorization } from './chat-api';
import { ChatFunction } from './chat-function';

/**
 * The stage's name, which is the path of the connect URL: `wss://<api>.execute-api.<region>.amazonaws.com/push`,
 * the same path the local server upgrades (`ws://127.0.0.1:<port>/push`), so clients change only the host.
 */
export const PUSH_STAGE_NAME = LOCAL_PUSH_PATH.replace(/^\//, '');

/**
 * One JSON object per request (connect, message, disconnect), with what the runbook
 * (docs/operations.md, Push) uses: the ids that tie it to the function's log lines, the event and
 * route, the status, the authorizer's and the integration's errors, and where the time went. As in
 * the HTTP API's log, nothing that identifies a person: no source IP, no user agent, no user id, no
 * token (the connect URL's query string carries it, and is never logged).
 */
export const PUSH_ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  eventType: '$context.eventType',
  routeKey: '$context.routeKey',
  status: '$context.status',
  connectionId: '$context.connectionId',
  integrationLatency: '$context.integrationLatency',
  integrationRequestId: '$context.integration.requestId',
  integrationError: '$context.integration.error',
  authorizerError: '$context.authorizer.error',
  error: '$context.error.message',
} as const;

/**
 * The push functions' time limits: their DynamoDB clients take the default limits (lambda/data/client.ts,
 * DYNAMODB_TIMEOUTS), which are the writes' (DEADLINES.write): the Lambda timeout covers two whole calls.
 */
export const PUSH_DEADLINE = DEADLINES.write;

/** How long the on-failure queue keeps a failed batch's description: SQS's longest, time to read it after a weekend. */
export const FAILURE_RETENTION = Duration.days(14);

/** ConditionCheckItem exists only inside a TransactWriteItems, whose own metrics report it. */
const TRANSACTION_ONLY_ACTIONS = new Set(['dynamodb:ConditionCheckItem']);

/**
 * The table operations the push functions issue, as CloudWatch reports them (for the DynamoDB
 * throttle and system-error alarms): their DynamoDB actions, a transaction's item-only actions
 * replaced by TransactWriteItems.
 */
export const PUSH_TABLE_ACTIONS: readonly string[] = [
  ...new Set(
    [PUSH_AUTHORIZER, ...PUSH_ROUTES, PUSH_FANOUT].flatMap((spec: PushFunctionSpec) => [
      ...spec.dynamodbActions.filter((action) => !TRANSACTION_ONLY_ACTIONS.has(action)),
      ...(spec.transactWrites ? ['dynamodb:TransactWriteItems'] : []),
    ]),
  ),
];

export interface ChatPushProps {
  readonly apiName: string;
  readonly description: string;
  /** The chat table, with its stream (TABLE.streamViewType): the subscriptions live in it, and its stream feeds the fan-out. */
  readonly table: dynamodb.Table;
  /** As the HTTP API authorizes users: the authorizer verifies this issuer's tokens, or (open demo) trusts the user_id query string. */
  readonly authorization: Authorization;
  /** Where package-lock.json, tsconfig.json and the contract's `entry` paths are relative to. */
  readonly projectRoot: string;
  /** What every function of the stack is told (identity source and claims, membership, a local endpoint). */
  readonly environment: Record<string, string>;
  /** The stage's throttling (connects and client frames). */
  readonly throttle: apigwv2.ThrottleSettings;
  /** Retention of the functions' and the access logs. */
  readonly logRetention: logs.RetentionDays;
  /** What happens to the log groups when they leave the stack. */
  readonly logRemovalPolicy: RemovalPolicy;
}

export class ChatPush extends Construct {
  readonly api: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;
  readonly accessLogs: logs.LogGroup;
  /** Every push function by its contract id: the authorizer, one per function route (PUSH_ROUTES; not the mock routes), the fan-out. */
  readonly functions: Record<string, ChatFunction> = {};
  readonly fanout: ChatFunction;
  /** Where the event source mapping describes a batch it gave up on (its records are not in it: their shard and sequence numbers are). */
  readonly failureQueue: sqs.Queue;
  /** The connect URL clients open: `wss://…/push`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ChatPushProps) {
    super(scope, id);
    const jwt = 'jwt' in props.authorization ? props.authorization.jwt : undefined;

    this.api = new apigwv2.WebSocketApi(this, 'Api', {
      apiName: props.apiName,
      description: props.description,
      routeSelectionExpression: PUSH_ROUTE_SELECTION_EXPRESSION,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: props.logRemovalPolicy });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: PUSH_STAGE_NAME,
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(PUSH_ACCESS_LOG_FIELDS)),
      },
    });
    this.url = this.stage.url;

    const newFunction = (spec: PushFunctionSpec, description: string, deadLetterReason: string) => {
      const fn = new ChatFunction(this, spec.id, {
        entry: path.join(props.projectRoot, spec.entry),
        projectRoot: props.projectRoot,
        description,
        deadline: PUSH_DEADLINE,
        environment: {
          ...props.environment,
          // The authorizer verifies the tokens itself (aws-jwt-verify): the HTTP API's issuer and audiences.
          ...(spec.verifiesTokens && jwt && { [ENV.jwtIssuer]: jwt.issuer, [ENV.jwtAudience]: jwt.audience.join(',') }),
          ...(spec.postsToConnections && { [ENV.pushConnectionsEndpoint]: this.stage.callbackUrl }),
        },
        logRetention: props.logRetention,
        logRemovalPolicy: props.logRemovalPolicy,
        deadLetterQueueReason: deadLetterReason,
      });
      if (spec.dynamodbActions.length > 0) fn.bindTable(props.table, spec.dynamodbActions, { queriesCreateTimeIndex: false });
      if (spec.postsToConnections) this.grantPostToConnections(fn);
      this.functions[spec.id] = fn;
      return fn;
    };

    const apiGatewayInvokes =
      "Only the WebSocket API invokes the function (the $connect authorizer and the routes' Lambda proxy integrations), synchronously: " +
      "a failure is the handshake's or the frame's error answer; a failed $disconnect leaves subscriptions that the fan-out deletes at their " +
      "first 410 and TTL removes. A dead-letter queue only ever receives failed asynchronous invocations, of which there are none.";

    const authorizerFn = newFunction(PUSH_AUTHORIZER, 'Push: the $connect authorizer (identity, membership of the chapters)', apiGatewayInvokes);
    const authorizer = new WebSocketLambdaAuthorizer(`${PUSH_AUTHORIZER.id}Authorizer`, authorizerFn.live, {
      identitySource: [...PUSH_AUTHORIZER.identitySource[jwt ? 'jwt' : 'headers']],
    });

    for (const spec of PUSH_ROUTES) {
      if (spec.authorized && spec.routeKey !== '$connect') {
        throw new Error(`${spec.id}: only $connect can be authorized on a WebSocket API, not ${spec.routeKey}`);
      }
      const fn = newFunction(spec, `Push: ${spec.routeKey}`, apiGatewayInvokes);
      const route = this.api.addRoute(spec.routeKey, {
        integration: new WebSocketLambdaIntegration(`${spec.id}Integration`, fn.live),
        authorizer: spec.authorized ? authorizer : undefined,
        returnResponse: spec.returnsResponse,
      });
      integrateAfterPermission(route);
      if (!spec.authorized) acknowledgeUnauthorized(route);
    }
    for (const spec of PUSH_MOCK_ROUTES) acknowledgeUnauthorized(this.addMockRoute(spec));

    this.failureQueue = new sqs.Queue(this, 'FanoutFailures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: FAILURE_RETENTION,
    });
    const deadLetterReason = 'It is the dead-letter queue itself: the on-failure destination of the fan-out\'s stream mapping. ' +
      'Nothing consumes it; an operator reads and purges it (docs/operations.md, Push), and an alarm watches its depth.';
    Validations.of(this.failureQueue).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: deadLetterReason },
      { id: 'Serverless-SQSRedrivePolicy', reason: deadLetterReason },
    );
    this.fanout = newFunction(
      PUSH_FANOUT,
      'Push: new messages from the table stream to the connected members',
      "Only the table stream's event source mapping invokes the function, synchronously: a failed batch is retried, then described on the " +
        "mapping's on-failure SQS queue (the stream's dead-letter queue). A function dead-letter queue only ever receives failed asynchronous " +
        'invocations, of which there are none.',
    );
    // The mapping invokes the live alias, so a release or a rollback moves it with the alias.
    this.fanout.live.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition[PUSH_STREAM.startingPosition],
        batchSize: PUSH_STREAM.batchSize,
        maxBatchingWindow: Duration.seconds(PUSH_STREAM.maxBatchingWindowSeconds),
        retryAttempts: PUSH_STREAM.retryAttempts,
        maxRecordAge: Duration.seconds(PUSH_STREAM.maxRecordAgeSeconds),
        bisectBatchOnError: PUSH_STREAM.bisectBatchOnError,
        reportBatchItemFailures: PUSH_STREAM.reportBatchItemFailures,
        onFailure: new SqsDlq(this.failureQueue),
        filters: PUSH_STREAM.filterPatterns.map((pattern) => lambda.FilterCriteria.filter(pattern as unknown as Record<string, unknown>)),
      }),
    );
    Validations.of(this.fanout.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) and the stream mapping\'s dynamodb:ListStreams support no ' +
        'resource-level permissions, so they need Resource "*". The stream reads name the table\'s stream; every other statement its log group, table, queue or API.',
    });
  }

  /**
   * A route API Gateway answers itself: a MOCK integration (its request template makes the mock
   * answer 200), a route response `$default` (two-way: `returnResponse`), and the integration
   * response `$default` whose template is the fixed frame — which API Gateway sends back. No
   * function, so no permission either.
   */
  private addMockRoute(spec: PushMockRouteSpec): apigwv2.WebSocketRoute {
    const integration = new WebSocketMockIntegration(`${pascal(spec.routeKey)}Integration`, {
      // The selection expression `\$default` picks the template keyed `$default`, whatever the frame's content type.
      requestTemplates: { $default: JSON.stringify({ statusCode: 200 }) },
      templateSelectionExpression: '\\$default',
    });
    const route = this.api.addRoute(spec.routeKey, { integration, returnResponse: true });
    const mock = route.node.children.find((child): child is apigwv2.WebSocketIntegration => child instanceof apigwv2.WebSocketIntegration);
    if (!mock) throw new Error(`${spec.routeKey}: the route has no integration`);
    new apigwv2.CfnIntegrationResponse(route, 'IntegrationResponse', {
      apiId: this.api.apiId,
      integrationId: mock.integrationId,
      integrationResponseKey: '$default',
      responseTemplates: { $default: spec.response },
    });
    return route;
  }

  /**
   * PostToConnection on this stage's connections, nothing else: not another stage's, and neither
   * GET (connection info) nor DELETE (closing), which no handler calls.
   */
  private grantPostToConnections(fn: ChatFunction): void {
    const connections = Stack.of(this).formatArn({ service: 'execute-api', resource: this.api.apiId, resourceName: `${this.stage.stageName}/POST/@connections/*` });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: [connections] }));
    // cdk-nag names the finding by the resource as written, the API by its logical id.
    const apiLogicalId = Stack.of(this).getLogicalId(this.api.node.defaultChild as CfnElement);
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${this.stage.stageName}/POST/@connections/*]`,
      reason:
        'Connection ids exist only at run time: the statement names this API, this stage and the POST method ' +
        '(PostToConnection) and leaves only the connection id open.',
    });
  }
}

/** `ping` → `Ping`: the mock integration's construct id. */
const pascal = (routeKey: string) => routeKey.replace(/^\$/, '').replace(/^./, (c) => c.toUpperCase());

/** cdk-nag's APIG4 (no authorizer) on a route other than `$connect`, which is all a WebSocket API can authorize. */
function acknowledgeUnauthorized(route: IConstruct): void {
  Validations.of(route).acknowledge({
    id: 'AwsSolutions-APIG4',
    reason:
      'A WebSocket API authorizes only $connect: this route runs on a connection the $connect authorizer admitted ' +
      '(identity verified, membership checked), and API Gateway refuses frames from anyone else.',
  });
}

/**
 * A route's integration waits for the permission that lets API Gateway invoke its target (the
 * alias), as the HTTP API's routes do (lib/chat-api.ts): without this order CloudFormation may point
 * it at a new target before the permission on it exists. (The authorizer cannot wait for its own:
 * that permission names the authorizer's id.)
 */
function integrateAfterPermission(route: IConstruct): void {
  const permissions = route.node.children.filter((child) => child instanceof lambda.CfnPermission);
  for (const child of route.node.children) if (child instanceof apigwv2.WebSocketIntegration) child.node.addDependency(...permissions);
}
