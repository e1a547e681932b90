/**
 * The store the functions use: the ports of lambda/ports/chat-store.ts on the DynamoDB table,
 * assembled from one module per concern (poll reads, message log, membership).
 */
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { ENV, type DynamoDbCallLimits } from '../contract';
import type { ChatStore } from '../ports/chat-store';
import { createDocumentClient, dynamoDbConfig, singleAttemptConfig, type RetryListener } from './client';
import { membership } from './membership';
import { messageLog } from './message-log';
import { pollReads } from './poll-reads';
import type { SubscriptionStore } from '../ports/push';
import { subscriptionStore } from './subscriptions';
import { TableAccess, type TableClients } from './table-access';

/** The store on given clients (tests use one client for both). */
export function chatStore(clients: TableClients, tableName: string, signal?: AbortSignal): ChatStore {
  const table = new TableAccess(clients, tableName, signal);
  const members = membership(table);
  return {
    ...pollReads(table, members.isMember),
    ...messageLog(table),
    ...members,
    withSignal: (deadline) => chatStore(clients, tableName, deadline),
    destroy: () => table.destroy(),
  };
}

export function createChatStore(config: DynamoDBClientConfig, tableName: string, onRetries?: RetryListener): ChatStore {
  return chatStore(
    { db: createDocumentClient(config, onRetries), stampedWrites: createDocumentClient(singleAttemptConfig(config), onRetries) },
    tableName,
  );
}

/**
 * The store of a function: the table named by TABLE_NAME (read once at init; a function never starts
 * half-configured), its client with its route's DynamoDB limits (`route.deadline.dynamodb`).
 */
export function chatStoreFromEnv(env: NodeJS.ProcessEnv = process.env, onRetries?: RetryListener, limits?: DynamoDbCallLimits): ChatStore {
  const tableName = env[ENV.tableName];
  if (!tableName) throw new Error(`environment variable ${ENV.tableName} is not set`);
  return createChatStore(dynamoDbConfig(env, limits), tableName, onRetries);
}

/** The push subscriptions of the table named by TABLE_NAME (read once at init). */
export function subscriptionStoreFromEnv(env: NodeJS.ProcessEnv = process.env): SubscriptionStore {
  const tableName = env[ENV.tableName];
  if (!tableName) throw new Error(`environment variable ${ENV.tableName} is not set`);
  const db = createDocumentClient(dynamoDbConfig(env));
  return subscriptionStore(new TableAccess({ db, stampedWrites: db }, tableName));
}
