/** `$connect` of the push API: subscribes the connection to the chapters the authorizer admitted. */
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { subscriptionStoreFromEnv } from '../data';
import { NotMemberError } from '../domain/errors';
import { subscribeConnection } from '../domain/push';
import { Telemetry } from '../http/observability';
import { connectionOf, pushHandler } from '../http/push';

const telemetry = new Telemetry();
const store = subscriptionStoreFromEnv();

export const handler = pushHandler<APIGatewayProxyWebsocketEventV2, APIGatewayProxyResultV2>(telemetry, async (event) => {
  try {
    await subscribeConnection(store, connectionOf(event));
    return { statusCode: 200 };
  } catch (error) {
    // Left the chapter after the authorizer said yes: the connection is refused.
    if (error instanceof NotMemberError) return { statusCode: 403 };
    throw error;
  }
});
