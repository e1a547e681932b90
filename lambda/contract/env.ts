/**
 * The names of the environment variables the functions read. The stack sets them, local runs and
 * tests set them, the functions read them once at init; nobody spells one out elsewhere.
 */
export const ENV = {
  /** The chat table's name. */
  tableName: 'TABLE_NAME',
  /** Points the DynamoDB client at another engine (DynamoDB Local, moto); unset on AWS. */
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
  /** `headers` trusts the x-user-* headers (local runs, open demos); anything else means JWT claims. */
  identitySource: 'IDENTITY_SOURCE',
  userIdClaim: 'JWT_CLAIM_USER_ID',
  userTypeClaim: 'JWT_CLAIM_USER_TYPE',
  userNameClaim: 'JWT_CLAIM_USER_NAME',
  /** Push functions that verify tokens themselves (lambda/contract/push.ts): the stack's JWT issuer and its audiences (comma-separated). */
  jwtIssuer: 'JWT_ISSUER',
  jwtAudience: 'JWT_AUDIENCE',
  /** The issuer's JWKS; unset means `<issuer>/.well-known/jwks.json`. */
  jwtJwksUri: 'JWT_JWKS_URI',
  /** The WebSocket API's management endpoint (`https://<api id>.execute-api.<region>.amazonaws.com/<stage>`) the fan-out posts to. */
  pushConnectionsEndpoint: 'PUSH_CONNECTIONS_ENDPOINT',
  /** Who decides a chapter's members: one of MEMBERSHIP_MODES; unset means `managed` (never open joins by accident). */
  membership: 'MEMBERSHIP',
  /** Powertools' own settings (the logs' `service`, the metrics' namespace, metrics off). */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  metricsDisabled: 'POWERTOOLS_METRICS_DISABLED',
  tracerCaptureResponse: 'POWERTOOLS_TRACER_CAPTURE_RESPONSE',
} as const;

/**
 * The values of ENV.membership, the stack's `membership` setting:
 * - `managed`: the course platform's backend adds and removes members (the IAM-authorized admin
 *   routes); users cannot join or leave on their own (403).
 * - `self`: any user with an identity joins and leaves any chapter; the admin routes work too.
 */
export const MEMBERSHIP_MODES = ['managed', 'self'] as const;

export type MembershipMode = (typeof MEMBERSHIP_MODES)[number];
