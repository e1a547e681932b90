/**
 * ChatApi: the HTTP API in front of the functions — a JWT authorizer on every user route and on
 * `$default` (or, explicitly, none: an open demo), IAM authorization (SigV4) on the admin routes in
 * every stack, the `$default` route's function for every request no route matches, and a throttled
 * `$default` stage that writes one JSON access-log line per request.
 */
import { Duration, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct, IConstruct } from 'constructs';
import { ENV, NOT_ROUTED, type RouteSpec } from '../lambda/contract';

/**
 * One JSON object per request, with only what the runbook (docs/operations.md) uses: the ids that tie
 * it to the function's own log lines, the route and status the 4xx/5xx alarms are investigated by,
 * why API Gateway refused or failed it (the authorizer's error: a 401's reason; the gateway's own
 * error message: a 403, 429 or 5xx of its own) and the integration's error, and where the time went. Nothing that identifies a person: no source IP,
 * no user agent, no user id (the log's retention is the stage's; docs/operations.md says so).
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  routeKey: '$context.routeKey',
  status: '$context.status',
  latency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationRequestId: '$context.integration.requestId',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  errorMessage: '$context.error.message',
} as const;

const ACCESS_LOG_FORMAT = AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS));

/** Tokens the JWT authorizer verifies on every user route (e.g. a Cognito user pool or any OIDC issuer). */
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

/** How the functions learn who calls, as the API authorizes them: the environment they read it from. */
export function identityEnvironment(authorization: Authorization): Record<string, string> {
  if ('openDemo' in authorization) return { [ENV.identitySource]: 'headers' };
  const claims = authorization.jwt.claims ?? {};
  return {
    [ENV.identitySource]: 'jwt',
    ...(claims.userId && { [ENV.userIdClaim]: claims.userId }),
    ...(claims.userType && { [ENV.userTypeClaim]: claims.userType }),
    ...(claims.userName && { [ENV.userNameClaim]: claims.userName }),
  };
}

export interface ChatApiProps {
  readonly apiName: string;
  readonly description: string;
  readonly authorization: Authorization;
  /**
   * Browser origins allowed to call the API (CORS). The app clients are not browsers.
   * @default - no CORS: no CORS headers, and a preflight gets the `$default` route's 405
   */
  readonly corsOrigins?: string[];
  /** The stage's throttling. */
  readonly throttle: apigwv2.ThrottleSettings;
  readonly accessLogRetention: logs.RetentionDays;
  /** What happens to the access log group when it leaves the stack. */
  readonly accessLogRemovalPolicy: RemovalPolicy;
  /** The `$default` route's function (its live alias): every request no route matches reaches it, and it answers the envelope. */
  readonly notRouted: lambda.IFunction;
}

export class ChatApi extends apigwv2.HttpApi {
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ChatApiProps) {
    const jwt = 'jwt' in props.authorization ? props.authorization.jwt : undefined;
    super(scope, id, {
      apiName: props.apiName,
      description: props.description,
      // The default stage is created below, with access logging and throttling.
      createDefaultStage: false,
      defaultIntegration: new HttpLambdaIntegration(`${NOT_ROUTED.id}Integration`, props.notRouted),
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

    // The access log group and the stage are the API's siblings in `scope`, not its children: under
    // the API their logical ids would change, and CloudFormation would replace the deployed ones.
    this.accessLogs = new logs.LogGroup(scope, `${id}AccessLogs`, {
      retention: props.accessLogRetention,
      removalPolicy: props.accessLogRemovalPolicy,
    });
    // No stageName: it is `$default`, served at the root of the API's URL, as the clients expect.
    this.stage = new apigwv2.HttpStage(scope, 'DefaultStage', {
      httpApi: this,
      autoDeploy: true,
      throttle: props.throttle,
      // Per-route metrics (Count, 4xx, 5xx, latencies by Method and Resource): the per-route 5xx alarms
      // read them (lib/monitoring/api-alarms.ts says why these and not the functions' own metrics).
      detailedMetricsEnabled: true,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: ACCESS_LOG_FORMAT,
      },
    });

    // The `$default` route, made by `defaultIntegration` above.
    for (const route of this.node.children) integrateAfterPermission(route);

    if (!jwt) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'Explicitly open demo stack (context openDemo=true): no authorizer by the operator\'s choice. Not for real users.',
      });
    }
  }

  /**
   * `route`'s method and path, integrated with its function — its live alias (payload format 2.0, and
   * API Gateway may invoke the alias). A user route takes the API's default authorization (the JWT authorizer and its scopes,
   * or none in an open demo); an `iam` route only admits SigV4-signed requests of principals allowed
   * `execute-api:Invoke` on it, in every stack, the open demo's included.
   */
  addChatRoute(route: RouteSpec, fn: lambda.IFunction): apigwv2.HttpRoute[] {
    const routes = this.addRoutes({
      path: route.path,
      methods: [apigwv2.HttpMethod[route.method]],
      integration: new HttpLambdaIntegration(`${route.id}Integration`, fn),
      // Explicitly no scopes: the JWT scopes are the default for the other routes and mean nothing to IAM.
      ...(route.authorization === 'iam' && { authorizer: new HttpIamAuthorizer(), authorizationScopes: [] }),
    });
    routes.forEach(integrateAfterPermission);
    return routes;
  }
}

/**
 * A route's integration waits for the permission that lets API Gateway invoke its target. Both follow
 * the target (the alias), and without this order CloudFormation may point the integration at a new
 * target before the permission on it exists (when the target changes, as it did from the function
 * to its alias): a few seconds of 500s.
 */
function integrateAfterPermission(route: IConstruct): void {
  const integrations = route.node.children.filter((child) => child instanceof apigwv2.HttpIntegration);
  const permissions = route.node.children.filter((child) => child instanceof lambda.CfnPermission);
  for (const integration of integrations) integration.node.addDependency(...permissions);
}
