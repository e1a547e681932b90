/**
 * The caller's identity. Deployed behind API Gateway's JWT authorizer it comes from the verified
 * token's claims (claim names configurable); local runs and explicitly open demo stacks, and only
 * those (IDENTITY_SOURCE=headers), take it from the x-user-id, x-user-type and x-user-name headers.
 * A missing or malformed identity is a 401.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ENV, ErrorCode, MAX_USER_NAME_LENGTH, type Identity } from '../contract';
import { ApiError } from './errors';

export interface IdentityConfig {
  source: 'jwt' | 'headers';
  claims: { userId: string; userType: string; userName: string };
}

/** Read once at init; anything but an explicit `headers` means tokens (never trust headers by accident). */
export function identityConfig(env: NodeJS.ProcessEnv = process.env): IdentityConfig {
  return {
    source: env[ENV.identitySource] === 'headers' ? 'headers' : 'jwt',
    claims: {
      userId: env[ENV.userIdClaim] || 'user_id',
      userType: env[ENV.userTypeClaim] || 'user_type',
      userName: env[ENV.userNameClaim] || 'name',
    },
  };
}

function unauthorized(what: string): ApiError {
  return new ApiError(ErrorCode.Unauthorized, what);
}

function integer(value: unknown, what: string, min: number): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) throw unauthorized(`${what} must be an integer of at least ${min}`);
  return n;
}

function name(value: unknown, what: string): string {
  const text = typeof value === 'string' ? value.toWellFormed().trim() : '';
  if (text === '' || [...text].length > MAX_USER_NAME_LENGTH) throw unauthorized(`${what} must be a name of 1 to ${MAX_USER_NAME_LENGTH} characters`);
  return text;
}

/** Header values are Latin-1 on the wire: clients send other names percent-encoded (UTF-8). */
function decodeHeader(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function identityOf(event: APIGatewayProxyEventV2, config: IdentityConfig): Identity {
  if (config.source === 'headers') {
    const h = event.headers ?? {};
    return {
      user_id: integer(h['x-user-id'], 'x-user-id', 1),
      user_type: integer(h['x-user-type'], 'x-user-type', 0),
      user_name: name(decodeHeader(h['x-user-name']), 'x-user-name'),
    };
  }
  const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } }).authorizer?.jwt?.claims;
  if (!claims) throw unauthorized('a valid token is required');
  return {
    user_id: integer(claims[config.claims.userId], `token claim ${config.claims.userId}`, 1),
    user_type: integer(claims[config.claims.userType], `token claim ${config.claims.userType}`, 0),
    user_name: name(claims[config.claims.userName], `token claim ${config.claims.userName}`),
  };
}
