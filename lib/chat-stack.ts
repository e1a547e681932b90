/**
 * The group chat stack of one stage, in the order of its architecture diagram:
 *
 *   [ApiDomain] ──▶ ChatApi ──▶ the `live` alias of one ChatFunction per route (+ the `$default` route's) ──▶ ChatTable
 *   ChatPush: WebSocket API ──▶ push functions ──▶ ChatTable; ChatTable's stream ──▶ fan-out ──▶ connected members
 *   ChatMonitoring: alarms on the API, the functions and the table ──▶ SNS topic; one dashboard
 *   [ChatRelease]: CodeDeploy moves each alias to a new version by canary, back on the rollback alarms
 *
 * Each route's function gets exactly its route's DynamoDB actions, and each route its authorization:
 * the user routes the JWT authorizer (or none, in an open demo), the admin routes IAM (ROUTES in
 * lambda/contract).
 */
import * as path from 'node:path';
import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { ENV, NOT_ROUTED, ROUTES, type RouteSpec } from '../lambda/contract';
import { ApiDomain } from './api-domain';
import { ChatApi, identityEnvironment, type Authorization } from './chat-api';
import { ChatFunction } from './chat-function';
import { ChatTable } from './chat-table';
import { ChatMonitoring } from './monitoring';
import { ROUTE_TABLE_OPERATIONS, tableOperationsOf } from './monitoring/table-alarms';
import { ChatPush, PUSH_TABLE_ACTIONS } from './push';
import { ChatRelease } from './release';
import type { DomainSettings } from './settings';
import type { StageName, StageSettings } from './stages';

/** Where package-lock.json, tsconfig.json and the `entry` paths of ROUTES are relative to. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

export interface ChatStackProps extends StackProps {
  readonly stage: StageName;
  readonly settings: StageSettings;
  readonly authorization: Authorization;
  /**
   * Browser origins allowed to call the API (CORS). The app clients are not browsers.
   * @default - no CORS: no CORS headers, and a preflight gets the `$default` route's 405
   */
  readonly corsOrigins?: string[];
  /**
   * An e-mail address subscribed to the alarm topic.
   * @default - none: subscribe to the topic (output AlarmTopicArn) by other means
   */
  readonly alarmEmail?: string;
  /**
   * A custom domain for the API (and optionally its DNS record).
   * @default - clients call the execute-api URL (output ApiUrl)
   */
  readonly domain?: DomainSettings;
  /**
   * A DynamoDB endpoint the functions use instead of AWS's, for `sam local invoke` on the
   * synthesized template only. Never set it for a deployed stack.
   * @default - the functions use the AWS endpoint of their region
   */
  readonly dynamodbEndpoint?: string;
}

export class ChatStack extends Stack {
  readonly table: ChatTable;
  readonly api: ChatApi;
  /** The WebSocket API that pushes new messages, its functions and the stream's fan-out. */
  readonly push: ChatPush;
  readonly monitoring: ChatMonitoring;
  /** The function of each route by route id, and the `$default` route's (NOT_ROUTED.id). */
  readonly functions: Record<string, ChatFunction> = {};
  /** The canary releases, on stages that release so. */
  readonly release?: ChatRelease;
  /** The custom domain, when one is configured. */
  readonly domain?: ApiDomain;

  constructor(scope: Construct, id: string, props: ChatStackProps) {
    super(scope, id, props);
    const { settings, authorization } = props;

    this.table = new ChatTable(this, 'Table', {
      removalPolicy: settings.tableRemovalPolicy,
      deletionProtection: settings.tableDeletionProtection,
    });

    const environment = {
      ...(props.dynamodbEndpoint ? { [ENV.dynamodbEndpoint]: props.dynamodbEndpoint } : {}),
      ...identityEnvironment(authorization),
      [ENV.membership]: settings.membership,
    };
    // Its timeout follows from its route's deadline, its reserved concurrency from the stage's throttle (lib/concurrency.ts).
    const newFunction = (spec: Pick<RouteSpec, 'id' | 'entry' | 'deadline'>, description: string) => {
      const fn = new ChatFunction(this, spec.id, {
        entry: path.join(PROJECT_ROOT, spec.entry),
        projectRoot: PROJECT_ROOT,
        description,
        deadline: spec.deadline,
        reservedConcurrentExecutions: settings.reservedConcurrency?.[spec.id],
        environment,
        logRetention: settings.logRetention,
        logRemovalPolicy: settings.logRemovalPolicy,
      });
      this.functions[spec.id] = fn;
      return fn;
    };

    this.api = new ChatApi(this, 'Api', {
      apiName: this.stackName,
      description: `Group chat API (${props.stage})`,
      authorization,
      corsOrigins: props.corsOrigins,
      throttle: settings.throttle,
      accessLogRetention: settings.logRetention,
      accessLogRemovalPolicy: settings.logRemovalPolicy,
      notRouted: newFunction(NOT_ROUTED, 'Requests no route matched: 404, or 405 on a known path').live,
    });
    const adminRouteArns: string[] = [];
    for (const route of ROUTES) {
      const fn = newFunction(route, `${route.method} ${route.path}`);
      fn.bindTable(this.table, route.dynamodbActions, { queriesCreateTimeIndex: route.queriesCreateTimeIndex });
      const routes = this.api.addChatRoute(route, fn.live);
      if (route.authorization === 'iam') adminRouteArns.push(...routes.map((r) => r.routeArn));
    }

    this.push = new ChatPush(this, 'Push', {
      apiName: `${this.stackName}-push`,
      description: `Group chat push (${props.stage})`,
      table: this.table,
      authorization,
      projectRoot: PROJECT_ROOT,
      environment,
      throttle: settings.throttle,
      logRetention: settings.logRetention,
      logRemovalPolicy: settings.logRemovalPolicy,
    });

    // The push functions release with the stack update (no canary): a failed push loses no message,
    // which clients fetch by polling on reconnect, and the previous version stays one alias move away.
    const aliases: Record<string, lambda.Alias> = Object.fromEntries(Object.entries(this.functions).map(([id, fn]) => [id, fn.live]));
    const canary = settings.release === 'canary';
    this.monitoring = new ChatMonitoring(this, 'Monitoring', {
      namePrefix: this.stackName,
      functions: { ...this.functions, ...this.push.functions },
      httpApi: this.api,
      table: this.table,
      tableOperations: [...new Set([...ROUTE_TABLE_OPERATIONS, ...tableOperationsOf(PUSH_TABLE_ACTIONS)])].sort(),
      push: { pushApi: this.push.api, pushStageName: this.push.stage.stageName, fanout: this.push.fanout, fanoutFailures: this.push.failureQueue },
      alarmEmail: props.alarmEmail,
      canaryAliases: canary ? aliases : undefined,
    });
    if (canary) {
      const rollbackAlarms = this.monitoring.rollbackAlarms!;
      this.release = new ChatRelease(this, 'Release', {
        functions: Object.fromEntries(Object.entries(aliases).map(([id, alias]) => [id, { alias, rollbackAlarms: rollbackAlarms[id] }])),
      });
    }
    if (props.domain) this.domain = new ApiDomain(this, 'Domain', { ...props.domain, api: this.api, stage: this.api.stage });

    if ('openDemo' in authorization) {
      Annotations.of(this).addWarningV2(
        'group-chat:openDemo',
        'Open demo stack: no user route checks a token, and send, join and leave trust the x-user-* headers, so anyone can act as anyone ' +
          '(the admin routes still require IAM).',
      );
    }
    if (props.dynamodbEndpoint) {
      Annotations.of(this).addWarningV2(
        'group-chat:dynamodbEndpoint',
        `The functions use the DynamoDB endpoint ${props.dynamodbEndpoint}: for sam local invoke only, do not deploy this template.`,
      );
    }

    new CfnOutput(this, 'ApiUrl', {
      value: this.domain?.url ?? this.api.stage.url,
      description: this.domain ? 'Base URL of the HTTP API: the custom domain' : 'Base URL of the HTTP API',
    });
    if (this.domain) {
      new CfnOutput(this, 'ExecuteApiUrl', { value: this.api.stage.url, description: "The API's own URL, which the custom domain maps to" });
      new CfnOutput(this, 'DomainTarget', {
        value: this.domain.domainName.regionalDomainName,
        description: this.domain.record
          ? 'Where the alias record of the custom domain points'
          : 'Point the custom domain here: a CNAME, or an alias record with the zone id of output DomainTargetZoneId',
      });
      new CfnOutput(this, 'DomainTargetZoneId', { value: this.domain.domainName.regionalHostedZoneId, description: 'The hosted zone id of DomainTarget, for an alias record' });
    }
    new CfnOutput(this, 'PushUrl', { value: this.push.url, description: 'The push endpoint: clients connect to <PushUrl>?chapters=<ids>&token=<JWT>' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'The chat table' });
    new CfnOutput(this, 'AdminRouteArns', {
      value: adminRouteArns.join(','),
      description: "The admin routes' execute-api ARNs: allow execute-api:Invoke on them to the course platform's role",
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'Every alarm notifies this SNS topic' });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName, description: 'The CloudWatch dashboard' });
  }
}
