/** A test client of the chat's routes: calls the handlers in-process with API Gateway events, as a member would. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { ENV, type GroupChatPage, type Identity, type MemberCount, type MembershipMode, type Message } from '../../lambda/contract';
import { apiGatewayEvent } from '../../local/api-gateway-event';
import type { LambdaHandler } from '../../local/handlers';
import { call, type ApiResponse } from './api';
import type { TestTable } from './dynamodb';

export interface Handlers {
  find: LambdaHandler;
  send: LambdaHandler;
  join: LambdaHandler;
  leave: LambdaHandler;
  /** Where the handlers take the caller from (see lambda/http/identity.ts). */
  identitySource: IdentitySource;
}

export type IdentitySource = 'headers' | 'jwt';

/**
 * Points the handlers (they read their settings at import) at a test table, through `endpoint`
 * when given (e.g. a fault proxy). Identity comes from the x-user-* headers as in local runs and
 * open demo stacks, or, with 'jwt', from verified token claims as behind the JWT authorizer. Users
 * join and leave on their own (`self`) unless `membership` says `managed`.
 */
export function configureHandlers(
  table: TestTable,
  endpoint = table.endpoint,
  identitySource: IdentitySource = 'headers',
  membership: MembershipMode = 'self',
): void {
  process.env[ENV.tableName] = table.tableName;
  process.env[ENV.dynamodbEndpoint] = endpoint;
  process.env[ENV.identitySource] = identitySource;
  process.env[ENV.membership] = membership;
}

/** The four handlers, configured for `table` (see configureHandlers). */
export async function handlersFor(table: TestTable, endpoint?: string, identitySource: IdentitySource = 'headers'): Promise<Handlers> {
  configureHandlers(table, endpoint, identitySource);
  const [find, send, join, leave] = await Promise.all([
    import('../../lambda/handlers/find-group-chat'),
    import('../../lambda/handlers/send-group-chat'),
    import('../../lambda/handlers/join-group-chat'),
    import('../../lambda/handlers/leave-group-chat'),
  ]);
  return { find: find.handler, send: send.handler, join: join.handler, leave: leave.handler, identitySource };
}

/** The admin routes' handlers (the course platform's: IAM-authorized when deployed, no user identity). */
export interface AdminHandlers {
  add: LambdaHandler;
  remove: LambdaHandler;
}

/** The admin handlers, configured for `table` as the other handlers are (configureHandlers); they read no identity. */
export async function adminHandlersFor(table: TestTable, endpoint?: string, identitySource: IdentitySource = 'headers'): Promise<AdminHandlers> {
  configureHandlers(table, endpoint, identitySource);
  const [add, remove] = await Promise.all([import('../../lambda/handlers/admin-add-members'), import('../../lambda/handlers/admin-remove-members')]);
  return { add: add.handler, remove: remove.handler };
}

/** The course platform's calls: `user_ids` as given (an array, or a comma-separated string), any extra headers. */
export function adminClient(admin: AdminHandlers) {
  return {
    add: (id: number, user_ids: unknown, headers: Record<string, string> = {}) =>
      post<MemberCount>(admin.add, '/admin/add_members', { id, user_ids }, headers),
    remove: (id: number, user_ids: unknown, headers: Record<string, string> = {}) =>
      post<MemberCount>(admin.remove, '/admin/remove_members', { id, user_ids }, headers),
  };
}

export function identityHeaders(user: Identity): Record<string, string> {
  return { 'x-user-id': String(user.user_id), 'x-user-type': String(user.user_type), 'x-user-name': encodeURIComponent(user.user_name) };
}

/** The event as API Gateway passes it on after its JWT authorizer verified a token with these claims. */
export function withClaims(event: APIGatewayProxyEventV2, user: Identity): APIGatewayProxyEventV2 {
  const claims = { sub: `user-${user.user_id}`, user_id: String(user.user_id), user_type: String(user.user_type), name: user.user_name };
  return { ...event, requestContext: { ...event.requestContext, authorizer: { jwt: { claims, scopes: [] } } } } as APIGatewayProxyEventV2;
}

export function jsonEvent(path: string, params: Record<string, unknown>, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return apiGatewayEvent({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(params)),
  });
}

export function post<T>(handler: LambdaHandler, path: string, params: Record<string, unknown>, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
  return call<T>(handler, jsonEvent(path, params, headers));
}

/** A request by `user`, presented as `source` expects: x-user-* headers or verified claims. */
export function postAs<T>(handlers: Handlers, handler: LambdaHandler, path: string, params: Record<string, unknown>, user: Identity): Promise<ApiResponse<T>> {
  const event =
    handlers.identitySource === 'jwt' ? withClaims(jsonEvent(path, params), user) : jsonEvent(path, params, identityHeaders(user));
  return call<T>(handler, event);
}

export function chatClient(handlers: Handlers, user: Identity) {
  const as = <T>(handler: LambdaHandler, path: string, params: Record<string, unknown>) => postAs<T>(handlers, handler, path, params, user);
  return {
    join: (id: number) => as<{ member_count: number }>(handlers.join, '/message/join_group_chat', { id }),
    leave: (id: number) => as<{ member_count: number }>(handlers.leave, '/message/leave_group_chat', { id }),
    /** A new message unless `client_msg_id` repeats an earlier send's (a retry). */
    send: (id: number, msg_body: string, client_msg_id: string = randomUUID()) =>
      as<Message>(handlers.send, '/message/send_group_chat', { id, msg_body, client_msg_id }),
    // An app client polls as itself; with header identity (open demo) the poll carries no identity at all.
    poll: (params: Record<string, unknown>) =>
      handlers.identitySource === 'jwt'
        ? as<GroupChatPage>(handlers.find, '/message/find_group_chat', params)
        : post<GroupChatPage>(handlers.find, '/message/find_group_chat', params),
  };
}
