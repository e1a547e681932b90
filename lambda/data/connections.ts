/**
 * The connections of the WebSocket API, reached through API Gateway's management API
 * (PostToConnection). The endpoint is the API's stage URL (ENV.pushConnectionsEndpoint); locally,
 * the local server's own management endpoint (local/push/connections.ts).
 */
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ENV } from '../contract';
import type { ConnectionGateway } from '../ports/push';
import { DEFAULT_LOCAL_REGION } from './client';

/** A post is small and API Gateway answers it in milliseconds: a stuck one is cut early and retried by the SDK. */
const POST_TIMEOUT_MS = 1000;

export interface ClosableConnectionGateway extends ConnectionGateway {
  destroy(): void;
}

export function connectionGateway(endpoint: string, env: NodeJS.ProcessEnv = process.env): ClosableConnectionGateway {
  const client = new ApiGatewayManagementApiClient({
    endpoint,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: POST_TIMEOUT_MS, requestTimeout: POST_TIMEOUT_MS, throwOnRequestTimeout: true },
    // A local endpoint (plain http) checks no signature: fixed credentials keep local runs free of AWS config.
    ...(endpoint.startsWith('http:') && { region: env.AWS_REGION || DEFAULT_LOCAL_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  });
  return {
    async post(connectionId, frame) {
      try {
        await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: JSON.stringify(frame) }));
        return true;
      } catch (error) {
        if (error instanceof GoneException || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410) return false;
        throw error;
      }
    },
    destroy: () => client.destroy(),
  };
}

/** The gateway of a function: the endpoint named by PUSH_CONNECTIONS_ENDPOINT (read once at init). */
export function connectionGatewayFromEnv(env: NodeJS.ProcessEnv = process.env): ClosableConnectionGateway {
  const endpoint = env[ENV.pushConnectionsEndpoint];
  if (!endpoint) throw new Error(`environment variable ${ENV.pushConnectionsEndpoint} is not set`);
  return connectionGateway(endpoint, env);
}
