/**
 * Push subscriptions in the chat table: one item per chapter and connection,
 * `sub#<user_id>#<connection_id>` in the chapter's partition (lambda/data/keys.ts), with a TTL.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TABLE } from '../contract';
import { StorageUnavailableError } from '../ports/errors';
import type { SubscriptionStore } from '../ports/push';
import { subscriptionFromItem, subscriptionItem } from './items';
import { itemKey, memberSk, subscriptionSk, subscriptionSkPrefix, type Key } from './keys';
import { conditionally, type TableAccess } from './table-access';

/** Rounds of BatchGetItem/BatchWriteItem for keys DynamoDB left unprocessed (throttling) before giving up with a 503-like error. */
const MAX_ROUNDS = 5;

export function subscriptionStore(table: TableAccess): SubscriptionStore {
  const { sortKey } = TABLE;
  return {
    async isMemberOfAll(userId, chapterIds) {
      let keys: Key[] = chapterIds.map((chapterId) => itemKey(chapterId, memberSk(userId)));
      let found = 0;
      for (let round = 0; keys.length > 0; round += 1) {
        if (round === MAX_ROUNDS) throw new StorageUnavailableError(new Error('BatchGetItem left keys unprocessed'));
        const out = await table.batchGet(keys, { ConsistentRead: true, ProjectionExpression: '#sk', ExpressionAttributeNames: { '#sk': sortKey.name } });
        found += out.Responses?.[table.name]?.length ?? 0;
        keys = (out.UnprocessedKeys?.[table.name]?.Keys ?? []) as Key[];
      }
      return found === new Set(chapterIds).size;
    },

    async subscribe(connectionId, userId, chapterIds, connectedAt, expiresAt) {
      // Per chapter: the member item must exist as the subscription is written (all or nothing).
      const items = chapterIds.flatMap((chapterId) => [
        {
          ConditionCheck: {
            TableName: table.name,
            Key: itemKey(chapterId, memberSk(userId)),
            ConditionExpression: 'attribute_exists(#sk)',
            ExpressionAttributeNames: { '#sk': sortKey.name },
          },
        },
        { Put: { TableName: table.name, Item: { ...subscriptionItem(chapterId, { chapterId, userId, connectionId, connectedAt }, expiresAt) } } },
      ]);
      try {
        await table.transactWrite(items);
        return true;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        if ((error.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed')) return false;
        throw new StorageUnavailableError(error); // a conflicting transaction: retry-safe
      }
    },

    async unsubscribe(connectionId, userId, chapterIds) {
      let keys: Key[] = chapterIds.map((chapterId) => itemKey(chapterId, subscriptionSk(userId, connectionId)));
      for (let round = 0; keys.length > 0; round += 1) {
        if (round === MAX_ROUNDS) throw new StorageUnavailableError(new Error('BatchWriteItem left items unprocessed'));
        const out = await table.batchDelete(keys);
        keys = (out.UnprocessedItems?.[table.name] ?? []).map((request) => request.DeleteRequest?.Key as Key);
      }
    },

    async subscriptions(chapterId, userId) {
      const found = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await table.query({
          KeyConditionExpression: '#pk = :chapter AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey.name, '#sk': sortKey.name },
          ExpressionAttributeValues: { ':chapter': chapterId, ':prefix': subscriptionSkPrefix(userId) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        });
        found.push(...(out.Items ?? []).map(subscriptionFromItem));
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return found;
    },

    async removeSubscription({ chapterId, userId, connectionId }) {
      await conditionally(table.delete({ Key: itemKey(chapterId, subscriptionSk(userId, connectionId)) }));
    },
  };
}
