/** POST message/find_group_chat — the polling endpoint app clients call every 5 seconds. */
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, routeNamed } from '../contract';
import { chatStoreFromEnv } from '../data';
import { findGroupChat, type FindGroupChatQuery } from '../domain/find-group-chat';
import { apiHandler } from '../http/api-handler';
import { badRequest } from '../http/errors';
import { identityConfig, identityOf } from '../http/identity';
import { Telemetry } from '../http/observability';
import { chapterIdParam, optionalInt, type Params } from '../http/params';

/** create_time is in Unix seconds; a value this large can only be milliseconds (year 5138 in s). */
const MAX_UNIX_SECONDS = 99_999_999_999;

const telemetry = new Telemetry();
const route = routeNamed('FindGroupChat');
const store = chatStoreFromEnv(process.env, telemetry.countRetries, route.deadline.dynamodb);
const identity = identityConfig();

export function parseFindGroupChat(params: Params): FindGroupChatQuery {
  const chapterId = chapterIdParam(params);
  const lastId = optionalInt(params, 'last_id', { min: 0 });
  const msgTime = optionalInt(params, 'msg_time', { min: 0 });
  if (msgTime !== undefined && msgTime > MAX_UNIX_SECONDS) throw badRequest('msg_time must be in Unix seconds, not milliseconds');
  const limit = optionalInt(params, 'limit', { min: 1, max: MAX_PAGE_SIZE }) ?? DEFAULT_PAGE_SIZE;
  if (lastId !== undefined) return { chapterId, cursor: { lastId }, limit };
  if (msgTime !== undefined) return { chapterId, cursor: { msgTime }, limit };
  throw badRequest('msg_time is required (or last_id)');
}

export const handler = apiHandler(telemetry, route.deadline, (params, event, signal) => {
  // With authorization on, only members read a chapter; an open demo (header identity) reads as before.
  const readerId = identity.source === 'jwt' ? identityOf(event, identity).user_id : undefined;
  const query = { ...parseFindGroupChat(params), readerId };
  return findGroupChat(store.withSignal(signal), query).then((page) => telemetry.countedPoll('msgTime' in query.cursor, page));
});
