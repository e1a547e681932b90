/** POST message/send_group_chat — a member posts a message; the sender comes from the caller's identity. */
import { chatStoreFromEnv } from '../data/chat-store';
import { sendGroupChat } from '../domain/send-group-chat';
import { apiHandler } from '../http/api-handler';
import { identityConfig, identityOf } from '../http/identity';
import { chapterIdParam, optionalToken, requiredText } from '../http/params';
import { counted, METRIC } from '../observability';

export const MAX_MESSAGE_LENGTH = 2000;

const store = chatStoreFromEnv();
const identity = identityConfig();

export const handler = apiHandler((params, event) => {
  const sender = identityOf(event, identity);
  return sendGroupChat(store, {
    chapterId: chapterIdParam(params),
    sender,
    body: requiredText(params, 'msg_body', MAX_MESSAGE_LENGTH),
    clientMsgId: optionalToken(params, 'client_msg_id'),
  }).then(counted(METRIC.MessagesSent));
});
