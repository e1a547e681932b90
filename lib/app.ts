/**
 * The app: the stage's stack, configured from CDK context, and the cdk-nag checks. bin/app.ts and
 * the infra tests both build it here, so the tests run exactly the checks `cdk synth` runs.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { MEMBERSHIP_MODES, type MembershipMode } from '../lambda/contract';
import type { Authorization } from './chat-api';
import { ChatStack } from './chat-stack';
import { DEFAULT_STAGE, STAGES, isStageName, type StageSettings } from './stages';

export const STACK_NAME_PREFIX = 'GroupChat';

/** Context keys (`cdk deploy -c key=value`, or cdk.json / cdk.context.json). docs/operations.md lists them. */
export const CONTEXT = {
  /** Which stage's stack: `dev` (default) or `prod` (lib/stages.ts). */
  stage: 'stage',
  /** JWT issuer URL; with jwtAudience, puts a JWT authorizer on every route. */
  jwtIssuer: 'jwtIssuer',
  /** Accepted token audiences, comma-separated. */
  jwtAudience: 'jwtAudience',
  /** Scopes a token must carry (any one), comma-separated; optional. */
  jwtScopes: 'jwtScopes',
  /** Names of the claims that carry the user's id, type and name (defaults user_id, user_type, name). */
  jwtClaimUserId: 'jwtClaimUserId',
  jwtClaimUserType: 'jwtClaimUserType',
  jwtClaimUserName: 'jwtClaimUserName',
  /** `true`: an explicitly open demo stack, with no authorizer, that trusts the x-user-* headers. */
  openDemo: 'openDemo',
  /** Browser origins allowed by CORS, comma-separated; none by default (CORS off). */
  corsOrigins: 'corsOrigins',
  /** Override the stage's API throttling (requests per second, burst). */
  throttleRate: 'throttleRate',
  throttleBurst: 'throttleBurst',
  /** `managed` or `self`: who decides a chapter's members (default: the stage's; `self` for an open demo). */
  membership: 'membership',
  /** An e-mail address subscribed to the alarm topic; optional. */
  alarmEmail: 'alarmEmail',
  /** A local DynamoDB endpoint baked into the functions, for `sam local invoke` only. */
  dynamodbEndpoint: 'dynamodbEndpoint',
} as const;

export const MISSING_AUTHORIZATION =
  `No authorization configured. Give the JWT issuer and audience (-c ${CONTEXT.jwtIssuer}=https://… -c ${CONTEXT.jwtAudience}=<client id>), ` +
  `or ask for an open demo stack that trusts x-user-* headers and must not serve real users (-c ${CONTEXT.openDemo}=true).`;

/** A context setting is missing or wrong: `cdk synth` prints the message alone (bin/app.ts). */
export class ContextError extends Error {
  override name = 'ContextError';
}

export function stackName(stage: string): string {
  return `${STACK_NAME_PREFIX}-${stage}`;
}

export function buildApp(app: App): ChatStack {
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === '' ? undefined : String(value);
  };
  const list = (key: string): string[] | undefined =>
    context(key)
      ?.split(',')
      .map((item) => item.trim())
      .filter(Boolean);

  const stage = context(CONTEXT.stage) ?? DEFAULT_STAGE;
  if (!isStageName(stage)) throw new ContextError(`unknown stage "${stage}": use one of ${Object.keys(STAGES).join(', ')}`);
  const defaults: StageSettings = STAGES[stage];
  const authorization = authorizationFromContext(context, list);
  const settings: StageSettings = {
    ...defaults,
    throttle: {
      rateLimit: positiveNumber(context(CONTEXT.throttleRate), CONTEXT.throttleRate) ?? defaults.throttle.rateLimit,
      burstLimit: positiveNumber(context(CONTEXT.throttleBurst), CONTEXT.throttleBurst) ?? defaults.throttle.burstLimit,
    },
    // An open demo trusts headers anyway: users join on their own there unless asked otherwise.
    membership: membershipMode(context(CONTEXT.membership)) ?? ('openDemo' in authorization ? 'self' : defaults.membership),
  };

  const stack = new ChatStack(app, stackName(stage), {
    description: `Group chat (${stage}): HTTP API, one Lambda function per route, one DynamoDB table`,
    stage,
    settings,
    authorization,
    corsOrigins: list(CONTEXT.corsOrigins),
    alarmEmail: context(CONTEXT.alarmEmail),
    dynamodbEndpoint: context(CONTEXT.dynamodbEndpoint),
  });
  // Any finding not acknowledged (with its reason, next to the construct) fails synthesis.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return stack;
}

function authorizationFromContext(
  context: (key: string) => string | undefined,
  list: (key: string) => string[] | undefined,
): Authorization {
  const issuer = context(CONTEXT.jwtIssuer);
  const audience = list(CONTEXT.jwtAudience);
  const openDemo = context(CONTEXT.openDemo);
  if (openDemo !== undefined && openDemo !== 'true' && openDemo !== 'false') throw new ContextError(`${CONTEXT.openDemo} must be true or false`);
  if (openDemo === 'true') {
    if (issuer || audience) throw new ContextError(`${CONTEXT.openDemo}=true and a JWT authorizer exclude each other`);
    return { openDemo: true };
  }
  if (!issuer && !audience) throw new ContextError(MISSING_AUTHORIZATION);
  if (!issuer || !audience?.length) throw new ContextError(`set both ${CONTEXT.jwtIssuer} and ${CONTEXT.jwtAudience}`);
  if (!/^https:\/\/\S+$/.test(issuer)) throw new ContextError(`${CONTEXT.jwtIssuer} must be an https:// URL`);
  return {
    jwt: {
      issuer,
      audience,
      scopes: list(CONTEXT.jwtScopes),
      claims: {
        userId: context(CONTEXT.jwtClaimUserId),
        userType: context(CONTEXT.jwtClaimUserType),
        userName: context(CONTEXT.jwtClaimUserName),
      },
    },
  };
}

function membershipMode(value: string | undefined): MembershipMode | undefined {
  if (value === undefined) return undefined;
  if (!(MEMBERSHIP_MODES as readonly string[]).includes(value)) {
    throw new ContextError(`${CONTEXT.membership} must be ${MEMBERSHIP_MODES.join(' or ')}, got "${value}"`);
  }
  return value as MembershipMode;
}

function positiveNumber(value: string | undefined, key: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ContextError(`${key} must be a positive number, got "${value}"`);
  return n;
}
