/** POST message/send_group_chat — a member posts a message; the sender comes from the caller's identity. */
import { MAX_MESSAGE_LENGTH, METRIC } from '../contract';
import { chatStoreFromEnv } from '../data';
import { sendGroupChat } from '../domain/send-group-chat';
import { apiHandler } from '../http/api-handler';
import { identityConfig, identityOf } from '../http/identity';
import { Telemetry } from '../http/observability';
import { chapterIdParam, optionalToken, requiredText } from '../http/params';

const telemetry = new Telemetry();
const store = chatStoreFromEnv(process.env, telemetry.countRetries);
const identity = identityConfig();

export const handler = apiHandler(telemetry, (params, event) => {
  const sender = identityOf(event, identity);
  return sendGroupChat(store, {
    chapterId: chapterIdParam(params),
    sender,
    body: requiredText(params, 'msg_body', MAX_MESSAGE_LENGTH),
    clientMsgId: optionalToken(params, 'client_msg_id'),
  }).then(telemetry.counted(METRIC.MessagesSent));
});
