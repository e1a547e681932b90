/**
 * The app: the stack and the cdk-nag checks. bin/app.ts and the infra tests both build it here, so
 * the tests run exactly the checks `cdk synth` runs.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChatStack, type JwtIdentityProps } from './chat-stack';

export const STACK_ID = 'GroupChat';

/** Context keys (`cdk synth -c key=value`, or cdk.json / cdk.context.json). */
export const CONTEXT = {
  /** A local DynamoDB endpoint baked into the functions, for `sam local invoke` only. */
  dynamodbEndpoint: 'dynamodbEndpoint',
  /** JWT issuer URL; with jwtAudience, puts a JWT authorizer on the routes that act for a caller. */
  jwtIssuer: 'jwtIssuer',
  /** Accepted token audiences, comma-separated. */
  jwtAudience: 'jwtAudience',
  /** `true`: an explicitly open demo stack that trusts the x-user-* headers. */
  insecureHeaderIdentity: 'insecureHeaderIdentity',
} as const;

export function buildApp(app: App): ChatStack {
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === '' ? undefined : String(value);
  };
  const stack = new ChatStack(app, STACK_ID, {
    description: 'Group chat: HTTP API, one Lambda function per route, one DynamoDB table',
    dynamodbEndpoint: context(CONTEXT.dynamodbEndpoint),
    jwt: jwtFromContext(context(CONTEXT.jwtIssuer), context(CONTEXT.jwtAudience)),
    insecureHeaderIdentity: context(CONTEXT.insecureHeaderIdentity) === 'true',
  });
  // Any finding not acknowledged (with its reason, next to the construct) fails synthesis.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

function jwtFromContext(issuer: string | undefined, audience: string | undefined): JwtIdentityProps | undefined {
  if (!issuer && !audience) return undefined;
  if (!issuer || !audience) throw new Error(`set both ${CONTEXT.jwtIssuer} and ${CONTEXT.jwtAudience}, or neither`);
  return { issuer, audience: audience.split(',').map((a) => a.trim()).filter(Boolean) };
}
