/** POST message/leave_group_chat — the caller stops being a member of the chapter's chat (idempotent). */
import { METRIC } from '../contract';
import { chatStoreFromEnv } from '../data';
import { leaveGroupChat } from '../domain/membership';
import { apiHandler } from '../http/api-handler';
import { identityConfig, identityOf } from '../http/identity';
import { Telemetry } from '../http/observability';
import { chapterIdParam } from '../http/params';

const telemetry = new Telemetry();
const store = chatStoreFromEnv(process.env, telemetry.countRetries);
const identity = identityConfig();

export const handler = apiHandler(telemetry, (params, event) => {
  const member = identityOf(event, identity);
  return leaveGroupChat(store, chapterIdParam(params), member.user_id).then(telemetry.counted(METRIC.Leaves));
});
