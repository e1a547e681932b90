/**
 * The group chat stack: one DynamoDB table, one function per route (each with exactly its route's
 * DynamoDB actions), and an HTTP API in front of them.
 */
import * as path from 'node:path';
import { Annotations, CfnOutput, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
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
import { ROUTES } from '../lambda/routes';
import { ChatFunction } from './chat-function';

/** Where package-lock.json, tsconfig.json and the `entry` paths of ROUTES are relative to. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * Stage-wide throttling: caps cost and load on the table if a client misbehaves. 1 000 requests/s
 * serves ~5 000 clients polling every 5 s; raise it with the audience.
 */
export const DEFAULT_THROTTLE: apigwv2.ThrottleSettings = { rateLimit: 1000, burstLimit: 2000 };

/**
 * Routes that act for no caller and may be called without an authorizer, and why (cdk-nag
 * AwsSolutions-APIG4). Such a route missing here fails synthesis until someone decides.
 */
const PUBLIC_ROUTES: Record<string, string> = {
  FindGroupChat:
    "The existing app polls a chapter's chat by chapter id with no identity, and must keep working unchanged.",
};

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

/** Tokens a JWT authorizer verifies for the routes that act for a caller (send, join, leave). */
export interface JwtIdentityProps {
  /** The issuer, e.g. `https://cognito-idp.<region>.amazonaws.com/<user pool id>`. */
  readonly issuer: string;
  /** Accepted `aud` values (for Cognito: the app client ids). */
  readonly audience: string[];
  /** Claim names, when the tokens do not carry `user_id`, `user_type` and `name`. */
  readonly claims?: { readonly userId?: string; readonly userType?: string; readonly userName?: string };
}

export interface ChatStackProps extends StackProps {
  /**
   * What happens to the table when it leaves the stack.
   * @default RemovalPolicy.RETAIN — chat history outlives the stack
   */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /**
   * A DynamoDB endpoint the functions use instead of AWS's, for `sam local invoke` on the
   * synthesized template only. Never set it for a deployed stack.
   * @default - the functions use the AWS endpoint of their region
   */
  readonly dynamodbEndpoint?: string;
  /**
   * Verify callers' tokens with a JWT authorizer.
   * @default - no authorizer: the routes that act for a caller answer 401 to every request (they
   * only accept verified claims, which only an authorizer supplies), unless insecureHeaderIdentity
   */
  readonly jwt?: JwtIdentityProps;
  /**
   * An explicitly open demo stack: callers are whoever their x-user-* headers say. Never for real users.
   * @default false
   */
  readonly insecureHeaderIdentity?: boolean;
  /** @default DEFAULT_THROTTLE */
  readonly throttle?: apigwv2.ThrottleSettings;
}

export class ChatStack extends Stack {
  readonly table: dynamodb.Table;
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** The function of each route, by route id. */
  readonly functions: Record<string, ChatFunction> = {};

  constructor(scope: Construct, id: string, props: ChatStackProps = {}) {
    super(scope, id, props);
    if (props.jwt && props.insecureHeaderIdentity) throw new Error('jwt and insecureHeaderIdentity exclude each other');

    // dynamodb.Table (AWS::DynamoDB::Table), not TableV2: cdk-nag's PITR rule only checks this type.
    const { partitionKey, sortKey, createTimeIndex, timeToLiveAttribute } = TABLE;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: partitionKey.name, type: attributeType(partitionKey.type) },
      sortKey: { name: sortKey.name, type: attributeType(sortKey.type) },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute,
      removalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.table.addLocalSecondaryIndex({
      indexName: createTimeIndex.name,
      sortKey: { name: createTimeIndex.sortKey.name, type: attributeType(createTimeIndex.sortKey.type) },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: this.stackName,
      description: 'Group chat API',
      // The default stage is created below, with access logging and throttling.
      createDefaultStage: false,
    });
    // No stageName: it is `$default`, served at the root of the API's URL, as the clients expect.
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      autoDeploy: true,
      throttle: props.throttle ?? DEFAULT_THROTTLE,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: ACCESS_LOG_FORMAT,
      },
    });

    if (props.dynamodbEndpoint) {
      Annotations.of(this).addWarningV2(
        'group-chat:dynamodbEndpoint',
        `The functions use the DynamoDB endpoint ${props.dynamodbEndpoint}: for sam local invoke only, do not deploy this template.`,
      );
    }
    if (props.insecureHeaderIdentity) {
      Annotations.of(this).addWarningV2(
        'group-chat:insecureHeaderIdentity',
        'Open demo stack: send, join and leave trust the x-user-* headers, so anyone can act as anyone.',
      );
    }
    const authorizer = props.jwt
      ? new HttpJwtAuthorizer('Jwt', props.jwt.issuer, { jwtAudience: props.jwt.audience })
      : undefined;

    for (const route of ROUTES) {
      const fn = new ChatFunction(this, route.id, {
        entry: path.join(PROJECT_ROOT, route.entry),
        projectRoot: PROJECT_ROOT,
        description: `${route.method} ${route.path}`,
        environment: {
          ...(props.dynamodbEndpoint ? { [DYNAMODB_ENDPOINT_ENV]: props.dynamodbEndpoint } : {}),
          ...(route.needsIdentity ? identityEnvironment(props) : {}),
        },
      });
      fn.bindTable(this.table, route.dynamodbActions, { queriesCreateTimeIndex: route.queriesCreateTimeIndex });
      this.functions[route.id] = fn;

      const [httpRoute] = this.api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${route.id}Integration`, fn),
        authorizer: route.needsIdentity ? authorizer : undefined,
      });
      const noAuthorizerBecause = route.needsIdentity ? (authorizer ? undefined : whyNoAuthorizer(props)) : PUBLIC_ROUTES[route.id];
      if (noAuthorizerBecause) {
        Validations.of(httpRoute).acknowledge({ id: 'AwsSolutions-APIG4', reason: noAuthorizerBecause });
      }
    }

    new CfnOutput(this, 'ApiUrl', { value: this.stage.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'The chat table' });
  }
}

/** How a route that acts for a caller learns who it is (lambda/http/identity.ts reads these). */
function identityEnvironment(props: ChatStackProps): Record<string, string> {
  const claims = props.jwt?.claims ?? {};
  return {
    [IDENTITY_ENV.source]: props.insecureHeaderIdentity ? 'headers' : 'jwt',
    ...(claims.userId && { [IDENTITY_ENV.userIdClaim]: claims.userId }),
    ...(claims.userType && { [IDENTITY_ENV.userTypeClaim]: claims.userType }),
    ...(claims.userName && { [IDENTITY_ENV.userNameClaim]: claims.userName }),
  };
}

/** Why a route that acts for a caller has no authorizer: true for each way it can come about. */
function whyNoAuthorizer(props: ChatStackProps): string {
  return props.insecureHeaderIdentity
    ? 'Explicitly open demo stack (insecureHeaderIdentity): callers are whoever their x-user-* headers say. Not for real users.'
    : 'No JWT issuer configured: the function accepts only verified token claims, which only an authorizer supplies, ' +
        'so the route answers 401 to every request (fails closed) until a JWT authorizer is configured (issue 4).';
}

function attributeType(type: 'N' | 'S'): dynamodb.AttributeType {
  return type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING;
}
