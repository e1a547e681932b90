/**
 * The WebSocket API's side of push: the connect URL's query (chapters and identity), the
 * authorizer's answer and the context API Gateway hands on to `$connect` and `$disconnect`.
 * Identity follows the HTTP routes' rules (./identity.ts): a token verified here with
 * aws-jwt-verify against the stack's issuer and audience (browsers cannot set an Authorization
 * header on a WebSocket), or, with IDENTITY_SOURCE=headers only, the query's stand-ins for the x-user-* headers.
 */
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEventV2 } from 'aws-lambda';
import { JwtVerifier } from 'aws-jwt-verify';
import { ENV, ErrorCode, MAX_PUSH_CHAPTERS, PUSH_QUERY, type Identity, type PushAuthorizerContext } from '../contract';
import { NotMemberError } from '../domain/errors';
import { ApiError } from './errors';
import { StorageUnavailableError } from '../ports/errors';
import { identityConfig, identityOf } from './identity';
import { describeError, observability, type Telemetry } from './observability';

export type Query = Record<string, string | undefined>;

/** `chapters=1,2`: 1 to MAX_PUSH_CHAPTERS distinct chapter ids. */
export function chaptersParam(query: Query): number[] {
  const text = query[PUSH_QUERY.chapters] ?? '';
  const ids = text.split(',').map((part) => (/^\d{1,15}$/.test(part.trim()) ? Number(part.trim()) : NaN));
  if (ids.length > MAX_PUSH_CHAPTERS || ids.some((id) => !Number.isSafeInteger(id) || id < 1)) {
    throw new ApiError(ErrorCode.BadRequest, `${PUSH_QUERY.chapters} must be 1 to ${MAX_PUSH_CHAPTERS} chapter ids, comma-separated`);
  }
  return [...new Set(ids)];
}

/** Reads the caller's identity from the connect URL's query; a missing or invalid one throws (a 401 ApiError). */
export type PushIdentity = (query: Query) => Promise<Identity>;

/** Built once at init: with tokens, the verifier of the stack's issuer (its keys are fetched once and cached by aws-jwt-verify). */
export function pushIdentity(env: NodeJS.ProcessEnv = process.env): PushIdentity {
  const config = identityConfig(env);
  if (config.source === 'headers') {
    return async (query) =>
      identityOf({ headers: { 'x-user-id': query[PUSH_QUERY.userId], 'x-user-type': query[PUSH_QUERY.userType], 'x-user-name': query[PUSH_QUERY.userName] } } as unknown as APIGatewayProxyEventV2, config);
  }
  const issuer = env[ENV.jwtIssuer];
  const audiences = (env[ENV.jwtAudience] ?? '').split(',').map((a) => a.trim()).filter(Boolean);
  if (!issuer || audiences.length === 0) throw new Error(`environment variables ${ENV.jwtIssuer} and ${ENV.jwtAudience} must be set (or ${ENV.identitySource}=headers)`);
  const verifier = JwtVerifier.create({
    issuer,
    // Given only when set: aws-jwt-verify takes an explicit undefined for a URI (its default is `<issuer>/.well-known/jwks.json`).
    ...(env[ENV.jwtJwksUri] && { jwksUri: env[ENV.jwtJwksUri] }),
    // As API Gateway's JWT authorizer: the token's `aud`, or else its `client_id` (access tokens), must be one of the audiences.
    audience: null,
    customJwtCheck: ({ payload }) => {
      const claimed = payload.aud !== undefined ? [payload.aud].flat() : [payload.client_id];
      if (!claimed.some((a) => typeof a === 'string' && audiences.includes(a))) throw new Error('token audience not accepted');
    },
  });
  return async (query) => {
    const token = query[PUSH_QUERY.token];
    if (!token) throw new ApiError(ErrorCode.Unauthorized, 'a valid token is required');
    const claims = await verifier.verify(token).catch(() => {
      throw new ApiError(ErrorCode.Unauthorized, 'a valid token is required');
    });
    return identityOf({ requestContext: { authorizer: { jwt: { claims } } } } as unknown as APIGatewayProxyEventV2, config);
  };
}

/** A refusal of the caller (bad query, no identity, not a member), as opposed to a failure of ours. */
export function isRefusal(error: unknown): boolean {
  return error instanceof NotMemberError || (error instanceof ApiError && error.code < 500);
}

/** The authorizer's answer: Allow with the context for `$connect`/`$disconnect`, or Deny (API Gateway answers the handshake 403). */
export function authorizerResult(methodArn: string, principal: { userId: number; chapterIds: readonly number[] } | undefined): APIGatewayAuthorizerResult {
  return {
    principalId: principal ? String(principal.userId) : 'refused',
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: principal ? 'Allow' : 'Deny', Resource: methodArn }] },
    ...(principal && { context: { user_id: principal.userId, chapters: principal.chapterIds.join(',') } satisfies PushAuthorizerContext }),
  };
}

/** The connection a `$connect`/`$disconnect` event is about, from its authorizer context (API Gateway may pass the values as strings). */
export function connectionOf(event: { requestContext: { connectionId: string; authorizer?: unknown } }): { connectionId: string; userId: number; chapterIds: number[] } {
  const context = (event.requestContext.authorizer ?? {}) as Record<string, unknown>;
  const userId = Number(context.user_id);
  const chapterIds = String(context.chapters ?? '')
    .split(',')
    .filter(Boolean)
    .map(Number);
  if (!Number.isSafeInteger(userId) || userId < 1 || chapterIds.length === 0 || chapterIds.some((id) => !Number.isSafeInteger(id))) {
    throw new Error('the connection carries no authorizer context (is $connect behind the push authorizer?)');
  }
  return { connectionId: event.requestContext.connectionId, userId, chapterIds };
}

/**
 * A push function's middy handler: the shared observability (request id, cold start, metrics
 * flush), and every failure of ours logged before it reaches API Gateway or the event source.
 */
export function pushHandler<TEvent, TResult>(telemetry: Telemetry, handle: (event: TEvent) => Promise<TResult>) {
  return middy<TEvent, TResult>()
    .use(observability<TEvent, { statusCode?: number }>(telemetry) as unknown as middy.MiddlewareObj<TEvent, TResult>[])
    .handler(async (event) => {
      try {
        return await handle(event);
      } catch (error) {
        telemetry.logger.error('push failed', { error: describeError(error, { stack: !(error instanceof StorageUnavailableError) }) });
        throw error;
      }
    });
}
