/**
 * The group chat stack of one stage: one DynamoDB table, one function per route (each with exactly
 * its route's DynamoDB actions) plus the `$default` route's, and an HTTP API in front of them with a
 * JWT authorizer on every route (or, explicitly, none: an open demo).
 */
import * as path from 'node:path';
import { Annotations, CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DYNAMODB_ENDPOINT_ENV } from '../lambda/data/client';
import { TABLE } from '../lambda/data/table';
import { IDENTITY_ENV } from '../lambda/http/identity';
import { NOT_ROUTED, ROUTES } from '../lambda/routes';
import { ChatFunction, FUNCTION_TIMEOUT } from './chat-function';
import { ChatMonitoring } from './monitoring';
import type { StageName, StageSettings } from './stages';

/** Where package-lock.json, tsconfig.json and the `entry` paths of ROUTES are relative to. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** One JSON object per request, with the ids that tie it to the function's own log lines. */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    routeKey: '$context.routeKey',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    latency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationStatus: '$context.integrationStatus',
    integrationRequestId: '$context.integration.requestId',
    integrationError: '$context.integrationErrorMessage',
  }),
);

/** Tokens the JWT authorizer verifies on every route (e.g. a Cognito user pool or any OIDC issuer). */
export interface JwtAuthorizationProps {
  /** The issuer, e.g. `https://cognito-idp.<region>.amazonaws.com/<user pool id>`. */
  readonly issuer: string;
  /** Accepted `aud` values (for Cognito: the app client ids). */
  readonly audience: string[];
  /** Scopes a token must carry (any one of them); none required when empty. */
  readonly scopes?: string[];
  /** Claim names, when the tokens do not carry `user_id`, `user_type` and `name`. */
  readonly claims?: { readonly userId?: string; readonly userType?: string; readonly userName?: string };
}

/**
 * Who may call: verified JWTs, or — only when asked for by name — nobody is checked and the
 * x-user-* headers say who the caller is (an open demo; never for real users).
 */
export type Authorization = { readonly jwt: JwtAuthorizationProps } | { readonly openDemo: true };

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
  readonly table: dynamodb.Table;
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  readonly monitoring: ChatMonitoring;
  /** The function of each route by route id, and the `$default` route's (NOT_ROUTED.id). */
  readonly functions: Record<string, ChatFunction> = {};

  constructor(scope: Construct, id: string, props: ChatStackProps) {
    super(scope, id, props);
    const { settings, authorization } = props;

    // dynamodb.Table (AWS::DynamoDB::Table), not TableV2: cdk-nag's PITR rule only checks this type.
    const { partitionKey, sortKey, createTimeIndex, timeToLiveAttribute } = TABLE;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: partitionKey.name, type: attributeType(partitionKey.type) },
      sortKey: { name: sortKey.name, type: attributeType(sortKey.type) },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute,
      removalPolicy: settings.tableRemovalPolicy,
      deletionProtection: settings.tableDeletionProtection,
    });
    this.table.addLocalSecondaryIndex({
      indexName: createTimeIndex.name,
      sortKey: { name: createTimeIndex.sortKey.name, type: attributeType(createTimeIndex.sortKey.type) },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    const environment = {
      ...(props.dynamodbEndpoint ? { [DYNAMODB_ENDPOINT_ENV]: props.dynamodbEndpoint } : {}),
      ...identityEnvironment(authorization),
    };
    const newFunction = (functionId: string, entry: string, description: string) =>
      new ChatFunction(this, functionId, {
        entry: path.join(PROJECT_ROOT, entry),
        projectRoot: PROJECT_ROOT,
        description,
        environment,
        logRetention: settings.logRetention,
      });

    const notRouted = newFunction(NOT_ROUTED.id, NOT_ROUTED.entry, 'Requests no route matched: 404, or 405 on a known path');
    this.functions[NOT_ROUTED.id] = notRouted;
    const jwt = 'jwt' in authorization ? authorization.jwt : undefined;
    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: this.stackName,
      description: `Group chat API (${props.stage})`,
      // The default stage is created below, with access logging and throttling.
      createDefaultStage: false,
      // Every request no route matches reaches our function, which answers the envelope.
      defaultIntegration: new HttpLambdaIntegration(`${NOT_ROUTED.id}Integration`, notRouted),
      // On every route, the `$default` route included.
      defaultAuthorizer: jwt && new HttpJwtAuthorizer('Jwt', jwt.issuer, { jwtAudience: jwt.audience }),
      defaultAuthorizationScopes: jwt?.scopes?.length ? jwt.scopes : undefined,
      corsPreflight: props.corsOrigins?.length
        ? {
            allowOrigins: props.corsOrigins,
            allowMethods: [apigwv2.CorsHttpMethod.POST],
            allowHeaders: ['content-type', 'authorization', ...(jwt ? [] : ['x-user-id', 'x-user-type', 'x-user-name'])],
            maxAge: Duration.days(1),
          }
        : undefined,
    });

    this.accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: settings.logRetention });
    // No stageName: it is `$default`, served at the root of the API's URL, as the clients expect.
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      autoDeploy: true,
      throttle: settings.throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: ACCESS_LOG_FORMAT,
      },
    });

    for (const route of ROUTES) {
      const fn = newFunction(route.id, route.entry, `${route.method} ${route.path}`);
      fn.bindTable(this.table, route.dynamodbActions, { queriesCreateTimeIndex: route.queriesCreateTimeIndex });
      this.functions[route.id] = fn;
      this.api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${route.id}Integration`, fn),
      });
    }

    if ('openDemo' in authorization) {
      Annotations.of(this).addWarningV2(
        'group-chat:openDemo',
        'Open demo stack: no route checks a token, and send, join and leave trust the x-user-* headers, so anyone can act as anyone.',
      );
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'Explicitly open demo stack (context openDemo=true): no authorizer by the operator\'s choice. Not for real users.',
      });
    }
    if (props.dynamodbEndpoint) {
      Annotations.of(this).addWarningV2(
        'group-chat:dynamodbEndpoint',
        `The functions use the DynamoDB endpoint ${props.dynamodbEndpoint}: for sam local invoke only, do not deploy this template.`,
      );
    }

    this.monitoring = new ChatMonitoring(this, 'Monitoring', {
      namePrefix: this.stackName,
      functions: this.functions,
      functionTimeout: FUNCTION_TIMEOUT,
      httpApi: this.api,
      table: this.table,
      alarmEmail: props.alarmEmail,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.stage.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'The chat table' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'Every alarm notifies this SNS topic' });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName, description: 'The CloudWatch dashboard' });
  }
}

/** How the functions learn who calls (lambda/http/identity.ts reads these). */
function identityEnvironment(authorization: Authorization): Record<string, string> {
  if ('openDemo' in authorization) return { [IDENTITY_ENV.source]: 'headers' };
  const claims = authorization.jwt.claims ?? {};
  return {
    [IDENTITY_ENV.source]: 'jwt',
    ...(claims.userId && { [IDENTITY_ENV.userIdClaim]: claims.userId }),
    ...(claims.userType && { [IDENTITY_ENV.userTypeClaim]: claims.userType }),
    ...(claims.userName && { [IDENTITY_ENV.userNameClaim]: claims.userName }),
  };
}

function attributeType(type: 'N' | 'S'): dynamodb.AttributeType {
  return type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING;
}
