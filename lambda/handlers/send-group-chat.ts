/** POST message/send_group_chat — a member posts a message; the sender comes from the caller's identity. */
import { MAX_MESSAGE_LENGTH, METRIC, routeNamed } from '../contract';
import { chatStoreFromEnv } from '../data';
import { sendGroupChat } from '../domain/send-group-chat';
import { apiHandler } from '../http/api-handler';
import { identityConfig, identityOf } from '../http/identity';
import { Telemetry } from '../http/observability';
import { badRequest } from '../http/errors';
import { chapterIdParam, optionalToken, requiredText, type Params } from '../http/params';

const telemetry = new Telemetry();
const route = routeNamed('SendGroupChat');
const store = chatStoreFromEnv(process.env, telemetry.countRetries, route.deadline.dynamodb);
const identity = identityConfig();

/** Required: it makes every send safe to retry (a retry with the same key stores nothing twice). */
function requiredClientMsgId(params: Params): string {
  const clientMsgId = optionalToken(params, 'client_msg_id');
  if (clientMsgId === undefined) throw badRequest('client_msg_id is required (a key of your choosing per message, reused when you retry it)');
  return clientMsgId;
}

export const handler = apiHandler(telemetry, route.deadline, (params, event, signal) => {
  const sender = identityOf(event, identity);
  return sendGroupChat(store.withSignal(signal), {
    chapterId: chapterIdParam(params),
    sender,
    body: requiredText(params, 'msg_body', MAX_MESSAGE_LENGTH),
    clientMsgId: requiredClientMsgId(params),
  }).then(telemetry.counted(METRIC.MessagesSent));
});
