/**
 * POST admin/add_members — the course platform adds users to a chapter's chat by id (idempotent).
 * IAM-authorized (SigV4) when deployed: the request names no user acting, so no identity is read —
 * neither x-user-* headers nor token claims.
 */
import { routeNamed } from '../contract';
import { chatStoreFromEnv } from '../data';
import { addMembers } from '../domain/membership';
import { apiHandler } from '../http/api-handler';
import { Telemetry } from '../http/observability';
import { chapterIdParam, userIdsParam } from '../http/params';

const telemetry = new Telemetry();
const route = routeNamed('AdminAddMembers');
const store = chatStoreFromEnv(process.env, telemetry.countRetries, route.deadline.dynamodb);

export const handler = apiHandler(telemetry, route.deadline, (params, _event, signal) => addMembers(store.withSignal(signal), chapterIdParam(params), userIdsParam(params)));
