/**
 * The data layer's public entry, for local runs, tools and tests: the store, the client
 * configuration, push (subscriptions, connections, stream records), the table's CreateTable request, the history writer and the import's table side
 * (./import.ts). Keys and items stay inside.
 */
export { chatStore, chatStoreFromEnv, createChatStore, subscriptionStoreFromEnv } from './chat-store';
export { connectionGateway, connectionGatewayFromEnv, type ClosableConnectionGateway } from './connections';
export { chatChangesFromStream } from './stream';
export { createDocumentClient, dynamoDbConfig, type RetryListener } from './client';
export { createTableInput } from './create-table';
export { writeHistory, type ChapterHistory } from './history';
export { chaptersWithMembers, recountMembers, type Recount } from './repair';
export {
  isRetryableImportError,
  openImportTable,
  sameMessage,
  type ImportTable,
  type ImportTableOptions,
  type ImportedMember,
  type ImportedMessage,
  type PutOutcome,
} from './import';
