/**
 * The floor bundle for cold start and bundle size: a bare handler with the functions' store
 * (chatStoreFromEnv, built at init as the functions build theirs) that answers an exact-mode poll
 * with the requests it needs (./floor.ts) and nothing else. Built with the same esbuild options as
 * the deployed functions (./build.ts).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { chatStoreFromEnv } from '../../lambda/data';
import { floorPoll } from './floor';

const store = chatStoreFromEnv();

type Claims = { authorizer?: { jwt?: { claims?: Record<string, unknown> } } };

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const body = JSON.parse(event.body ?? '{}') as { id: number };
  const userId = (event.requestContext as Claims).authorizer?.jwt?.claims?.user_id;
  const out = await floorPoll(store, { chapterId: Number(body.id), userId: userId === undefined ? undefined : Number(userId) });
  return { statusCode: 200, body: JSON.stringify(out) };
}
