/** POST message/join_group_chat — the caller becomes a member of the chapter's chat (idempotent). */
import { chatStoreFromEnv } from '../data/chat-store';
import { joinGroupChat } from '../domain/presence';
import { apiHandler } from '../http/api-handler';
import { identityConfig, identityOf } from '../http/identity';
import { chapterIdParam } from '../http/params';
import { counted, METRIC } from '../observability';

const store = chatStoreFromEnv();
const identity = identityConfig();

export const handler = apiHandler((params, event) => {
  const member = identityOf(event, identity);
  return joinGroupChat(store, chapterIdParam(params), member).then(counted(METRIC.Joins));
});
