/** The push API's REQUEST authorizer on `$connect`: a verified identity, and a member of every chapter asked for. */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { subscriptionStoreFromEnv } from '../data';
import { authorizeSubscription } from '../domain/push';
import { Telemetry } from '../http/observability';
import { authorizerResult, chaptersParam, isRefusal, pushHandler, pushIdentity } from '../http/push';

const telemetry = new Telemetry();
const store = subscriptionStoreFromEnv();
const identity = pushIdentity();

export const handler = pushHandler<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>(telemetry, async (event) => {
  const query = (event.queryStringParameters ?? {}) as Record<string, string | undefined>;
  try {
    const chapterIds = chaptersParam(query);
    const { user_id: userId } = await identity(query);
    await authorizeSubscription(store, userId, chapterIds);
    return authorizerResult(event.methodArn, { userId, chapterIds });
  } catch (error) {
    // A refused caller gets Deny (the handshake answers 403); our own failures throw (API Gateway answers 500).
    if (isRefusal(error)) return authorizerResult(event.methodArn, undefined);
    throw error;
  }
});
