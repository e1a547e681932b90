/**
 * Reserved concurrency per function, by Little's law: the executions in flight are the arrival rate
 * times how long each one takes. The stage's API throttle caps the rate (throttleRate), each route is
 * sized for its share of it (trafficPercent in ROUTES), and the longest an execution can take is its
 * Lambda timeout (its deadline plus the time to answer, lib/chat-function.ts) — what a DynamoDB
 * brownout makes every execution take. So
 *
 *     reserved = ⌈ throttleRate × trafficPercent / 100 × timeout in s ⌉
 *
 * is what a function needs to serve its share of the throttle even in a brownout, and, being
 * reserved, also its ceiling: however slow the database, it never takes more of the account's
 * concurrency, and the other functions keep theirs. AWS keeps 100 of an account's concurrent
 * executions unreserved, so a stack's reservations must leave those of the account's quota.
 * docs/operations.md ("Reserved concurrency") has the numbers per stage and how to override them.
 */
import { NOT_ROUTED, ROUTES } from '../lambda/contract';
import { functionTimeout } from './chat-function';

/** Concurrent executions AWS keeps unreserved in every account and region. */
export const UNRESERVED_MINIMUM = 100;

/** AWS's default Lambda concurrency quota of an account in a region (Service Quotas: "Concurrent executions"). */
export const DEFAULT_ACCOUNT_CONCURRENCY = 1000;

/** Every function of the stack, by id: one per route, and the `$default` route's. */
export const FUNCTION_SPECS = [...ROUTES, NOT_ROUTED];

/** Each function's reservation for an API throttle of `throttleRate` requests per second. */
export function reservationsFor(throttleRate: number): Record<string, number> {
  return Object.fromEntries(
    FUNCTION_SPECS.map((fn) => [fn.id, Math.ceil((throttleRate * fn.trafficPercent * functionTimeout(fn.deadline).toSeconds()) / 100)]),
  );
}

/** The most a stack may reserve in an account with this quota. */
export function reservableIn(accountConcurrency: number): number {
  return accountConcurrency - UNRESERVED_MINIMUM;
}
