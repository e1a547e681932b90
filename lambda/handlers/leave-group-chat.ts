/** POST message/leave_group_chat — the caller stops being a member of the chapter's chat (idempotent; `self` membership only). */
import { METRIC, routeNamed } from '../contract';
import { chatStoreFromEnv } from '../data';
import { leaveGroupChat, requireSelfServiceMembership } from '../domain/membership';
import { apiHandler } from '../http/api-handler';
import { identityConfig, identityOf } from '../http/identity';
import { membershipModeFromEnv } from '../http/membership-mode';
import { Telemetry } from '../http/observability';
import { chapterIdParam } from '../http/params';

const telemetry = new Telemetry();
const route = routeNamed('LeaveGroupChat');
const store = chatStoreFromEnv(process.env, telemetry.countRetries, route.deadline.dynamodb);
const identity = identityConfig();
const membership = membershipModeFromEnv();

export const handler = apiHandler(telemetry, route.deadline, async (params, event, signal) => {
  const member = identityOf(event, identity);
  const chapterId = chapterIdParam(params);
  // In `managed` mode the course platform decides (admin routes): 403, nothing stored.
  requireSelfServiceMembership(membership);
  return leaveGroupChat(store.withSignal(signal), chapterId, member.user_id).then(telemetry.counted(METRIC.Leaves));
});
