/** POST message/find_group_chat — the polling endpoint app clients call every 5 seconds. */
import { ChatStore } from '../data/chat-store';
import { createDocumentClient, requiredEnv } from '../data/client';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, findGroupChat, type FindGroupChatQuery } from '../domain/find-group-chat';
import { badRequest } from '../http/errors';
import { apiHandler } from '../http/api-handler';
import { optionalInt, requiredInt, type Params } from '../http/params';

/** create_time is in Unix seconds; a value this large can only be milliseconds (year 5138 in s). */
const MAX_UNIX_SECONDS = 99_999_999_999;

const store = new ChatStore(createDocumentClient(), requiredEnv('TABLE_NAME'));

export function parseFindGroupChat(params: Params): FindGroupChatQuery {
  const chapterId = requiredInt(params, 'id', { min: 1 });
  const lastId = optionalInt(params, 'last_id', { min: 0 });
  const msgTime = optionalInt(params, 'msg_time', { min: 0 });
  if (msgTime !== undefined && msgTime > MAX_UNIX_SECONDS) throw badRequest('msg_time must be in Unix seconds, not milliseconds');
  const limit = optionalInt(params, 'limit', { min: 1, max: MAX_PAGE_SIZE }) ?? DEFAULT_PAGE_SIZE;
  if (lastId !== undefined) return { chapterId, cursor: { lastId }, limit };
  if (msgTime !== undefined) return { chapterId, cursor: { msgTime }, limit };
  throw badRequest('msg_time is required (or last_id)');
}

export const handler = apiHandler((params) => findGroupChat(store, parseFindGroupChat(params)));
