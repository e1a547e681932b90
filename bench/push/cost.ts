/**
 * What one connected, idle user costs a month: push (API Gateway WebSocket API) against polling
 * every 5 s, from list prices (us-east-1, as docs/operations.md uses them) and the request counts
 * the benchmark measured (./run.ts). The keep-alive is API Gateway's own answer (the `ping` route is
 * a MOCK integration, PUSH_PING_ROUTE): its ping and pong are billed messages, and nothing else.
 */
import { PUSH_CONNECTION_MAX_SECONDS, PUSH_PING_INTERVAL_SECONDS } from '../../lambda/contract';

export const MONTH_S = 30 * 24 * 3600;
/** API Gateway WebSocket API: connection minutes and messages (each ≤ 32 KB, either direction). */
export const WS_PER_CONNECTION_MINUTE = 0.25 / 1e6;
export const WS_PER_MESSAGE = 1.0 / 1e6;
/** One exact poll with authorization on, all in (API Gateway, Lambda, DynamoDB, logs, X-Ray): docs/operations.md, "Cost". */
export const EXACT_POLL = 2.22 / 1e6;
/** Today's clients poll every 5 s. */
export const POLLS_PER_SECOND = 0.2;
/** A Lambda invocation: the request ($0.20/M), ~2 ms at 128 MB arm64, START/END/REPORT lines (~350 B at $0.50/GB). */
export const LAMBDA_INVOCATION = 0.2 / 1e6 + 0.0000133334 * 0.125 * 0.002 + (350 / 1e9) * 0.5;
/** A reconnect's own writes: $connect's transaction (member check + subscription, 2 WRU each) and $disconnect's delete: 5 WRU; the authorizer's read: 1 RRU. */
export const RECONNECT_DYNAMODB = (5 * 0.625 + 1 * 0.125) / 1e6;

export interface Measured {
  /** Billed messages per keep-alive (the ping and its pong), counted at the client. */
  messagesPerPing: number;
  /** Exact polls a reconnect makes (the resume rule), counted at the client. */
  pollsPerReconnect: number;
}

export interface MonthlyCost {
  polling: number;
  /** API Gateway's part plus the polls of reconnects: what the goal is judged on. */
  push: number;
  /** The same plus the Lambda invocations behind the authorizer, $connect and $disconnect and the reconnects' DynamoDB writes (estimate); a ping invokes nothing. */
  pushAllIn: number;
  parts: Record<string, number>;
}

export function monthlyCost(measured: Measured): MonthlyCost {
  const pings = MONTH_S / PUSH_PING_INTERVAL_SECONDS;
  const reconnects = MONTH_S / PUSH_CONNECTION_MAX_SECONDS; // API Gateway closes each connection after 2 h
  const parts = {
    connectionMinutes: (MONTH_S / 60) * WS_PER_CONNECTION_MINUTE,
    keepAliveMessages: pings * measured.messagesPerPing * WS_PER_MESSAGE,
    reconnectPolls: reconnects * measured.pollsPerReconnect * EXACT_POLL,
    reconnectInvocationsAndWrites: reconnects * (3 * LAMBDA_INVOCATION + RECONNECT_DYNAMODB),
  };
  const push = parts.connectionMinutes + parts.keepAliveMessages + parts.reconnectPolls;
  return {
    polling: MONTH_S * POLLS_PER_SECOND * EXACT_POLL,
    push,
    pushAllIn: push + parts.reconnectInvocationsAndWrites,
    parts,
  };
}
