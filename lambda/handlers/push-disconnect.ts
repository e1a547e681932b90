/** `$disconnect` of the push API: deletes the connection's subscriptions (their keys come from the authorizer's context). */
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { subscriptionStoreFromEnv } from '../data';
import { unsubscribeConnection } from '../domain/push';
import { Telemetry } from '../http/observability';
import { connectionOf, pushHandler } from '../http/push';

const telemetry = new Telemetry();
const store = subscriptionStoreFromEnv();

export const handler = pushHandler<APIGatewayProxyWebsocketEventV2, APIGatewayProxyResultV2>(telemetry, async (event) => {
  await unsubscribeConnection(store, connectionOf(event));
  return { statusCode: 200 };
});
