/** The push API's `ping` route: the client's keep-alive (API Gateway closes a connection idle for 10 minutes), answered `{"type":"pong"}`. */
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import type { PushFrame } from '../contract';

const PONG = JSON.stringify({ type: 'pong' } satisfies PushFrame);

export const handler = async (_event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResultV2> => ({ statusCode: 200, body: PONG });
