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
  /** Powertools' own settings (the logs' `service`, the metrics' namespace, metrics off). */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  metricsDisabled: 'POWERTOOLS_METRICS_DISABLED',
  tracerCaptureResponse: 'POWERTOOLS_TRACER_CAPTURE_RESPONSE',
} as const;
