/** A test client of the chat's routes: calls the handlers in-process with API Gateway events, as a member would. */
import type { Identity } from '../../lambda/domain/identity';
import type { Message } from '../../lambda/data/table';
import type { GroupChatPage } from '../../lambda/domain/find-group-chat';
import { apiGatewayEvent, type LambdaHandler } from '../../local/server';
import { call, type ApiResponse } from './api';
import type { TestTable } from './dynamodb';

export interface Handlers {
  find: LambdaHandler;
  send: LambdaHandler;
  join: LambdaHandler;
  leave: LambdaHandler;
}

/**
 * Points the handlers (they read their settings at import) at a test table, through `endpoint`
 * when given (e.g. a fault proxy), with identity from the x-user-* headers as in local runs.
 */
export function configureHandlers(table: TestTable, endpoint = table.endpoint): void {
  process.env.TABLE_NAME = table.tableName;
  process.env.DYNAMODB_ENDPOINT = endpoint;
  process.env.IDENTITY_SOURCE = 'headers';
}

/** The four handlers, configured for `table` (see configureHandlers). */
export async function handlersFor(table: TestTable, endpoint?: string): Promise<Handlers> {
  configureHandlers(table, endpoint);
  return importHandlers();
}

async function importHandlers(): Promise<Handlers> {
  const [find, send, join, leave] = await Promise.all([
    import('../../lambda/handlers/find-group-chat'),
    import('../../lambda/handlers/send-group-chat'),
    import('../../lambda/handlers/join-group-chat'),
    import('../../lambda/handlers/leave-group-chat'),
  ]);
  return { find: find.handler, send: send.handler, join: join.handler, leave: leave.handler };
}

export function identityHeaders(user: Identity): Record<string, string> {
  return { 'x-user-id': String(user.user_id), 'x-user-type': String(user.user_type), 'x-user-name': encodeURIComponent(user.user_name) };
}

export function post<T>(handler: LambdaHandler, path: string, params: Record<string, unknown>, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
  const event = apiGatewayEvent({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(params)),
  });
  return call<T>(handler, event);
}

export function chatClient(handlers: Handlers, user: Identity) {
  const headers = identityHeaders(user);
  return {
    join: (id: number) => post<{ member_count: number }>(handlers.join, '/message/join_group_chat', { id }, headers),
    leave: (id: number) => post<{ member_count: number }>(handlers.leave, '/message/leave_group_chat', { id }, headers),
    send: (id: number, msg_body: string, client_msg_id?: string) =>
      post<Message>(handlers.send, '/message/send_group_chat', { id, msg_body, ...(client_msg_id && { client_msg_id }) }, headers),
    poll: (params: Record<string, unknown>) => post<GroupChatPage>(handlers.find, '/message/find_group_chat', params),
  };
}
