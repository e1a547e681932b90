/**
 * The stack's `membership` setting as a function reads it (ENV.membership), once at init. Unset means
 * `managed`: users are never let in on their own by a missing setting. A value that is neither mode
 * fails the function's init (the stack only ever sets a valid one).
 */
import { ENV, MEMBERSHIP_MODES, type MembershipMode } from '../contract';

export function membershipModeFromEnv(env: NodeJS.ProcessEnv = process.env): MembershipMode {
  const value = env[ENV.membership];
  if (value === undefined || value === '') return 'managed';
  if (!(MEMBERSHIP_MODES as readonly string[]).includes(value)) {
    throw new Error(`environment variable ${ENV.membership} must be ${MEMBERSHIP_MODES.join(' or ')}, got "${value}"`);
  }
  return value as MembershipMode;
}
