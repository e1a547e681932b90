/**
 * The group chat stack of one stage, in the order of its architecture diagram:
 *
 *   ChatApi ──▶ one ChatFunction per route (+ the `$default` route's) ──▶ ChatTable
 *   ChatMonitoring: alarms on the API, the functions and the table ──▶ SNS topic; one dashboard
 *
 * Each route's function gets exactly its route's DynamoDB actions, and each route its authorization:
 * the user routes the JWT authorizer (or none, in an open demo), the admin routes IAM (ROUTES in
 * lambda/contract).
 */
import * as path from 'node:path';
import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ENV, NOT_ROUTED, ROUTES } from '../lambda/contract';
import { ChatApi, identityEnvironment, type Authorization } from './chat-api';
import { ChatFunction, FUNCTION_TIMEOUT } from './chat-function';
import { ChatTable } from './chat-table';
import { ChatMonitoring } from './monitoring';
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
   * A DynamoDB endpoint the functions use instead of AWS's, for `sam local invoke` on the
   * synthesized template only. Never set it for a deployed stack.
   * @default - the functions use the AWS endpoint of their region
   */
  readonly dynamodbEndpoint?: string;
}

export class ChatStack extends Stack {
  readonly table: ChatTable;
  readonly api: ChatApi;
  readonly monitoring: ChatMonitoring;
  /** The function of each route by route id, and the `$default` route's (NOT_ROUTED.id). */
  readonly functions: Record<string, ChatFunction> = {};

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
    const newFunction = (functionId: string, entry: string, description: string) => {
      const fn = new ChatFunction(this, functionId, {
        entry: path.join(PROJECT_ROOT, entry),
        projectRoot: PROJECT_ROOT,
        description,
        environment,
        logRetention: settings.logRetention,
      });
      this.functions[functionId] = fn;
      return fn;
    };

    this.api = new ChatApi(this, 'Api', {
      apiName: this.stackName,
      description: `Group chat API (${props.stage})`,
      authorization,
      corsOrigins: props.corsOrigins,
      throttle: settings.throttle,
      accessLogRetention: settings.logRetention,
      notRouted: newFunction(NOT_ROUTED.id, NOT_ROUTED.entry, 'Requests no route matched: 404, or 405 on a known path'),
    });
    const adminRouteArns: string[] = [];
    for (const route of ROUTES) {
      const fn = newFunction(route.id, route.entry, `${route.method} ${route.path}`);
      fn.bindTable(this.table, route.dynamodbActions, { queriesCreateTimeIndex: route.queriesCreateTimeIndex });
      const routes = this.api.addChatRoute(route, fn);
      if (route.authorization === 'iam') adminRouteArns.push(...routes.map((r) => r.routeArn));
    }

    this.monitoring = new ChatMonitoring(this, 'Monitoring', {
      namePrefix: this.stackName,
      functions: this.functions,
      functionTimeout: FUNCTION_TIMEOUT,
      httpApi: this.api,
      table: this.table,
      alarmEmail: props.alarmEmail,
    });

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

    new CfnOutput(this, 'ApiUrl', { value: this.api.stage.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'The chat table' });
    new CfnOutput(this, 'AdminRouteArns', {
      value: adminRouteArns.join(','),
      description: "The admin routes' execute-api ARNs: allow execute-api:Invoke on them to the course platform's role",
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'Every alarm notifies this SNS topic' });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName, description: 'The CloudWatch dashboard' });
  }
}
