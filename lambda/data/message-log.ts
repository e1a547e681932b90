/** The message log a send appends to, and the send reservations (lambda/domain/send-group-chat.ts says how they work). */
import { TABLE } from '../contract';
import type { MessageLog } from '../ports/chat-store';
import { loggedMessageFromItem, messageItem, type SendReservationItem } from './items';
import { StorageUnavailableError } from '../ports/errors';
import { MESSAGE_SK_PREFIX, PRESENCE_SK, itemKey, messageSk, sendReservationSk } from './keys';
import { conditionally, type TableAccess } from './table-access';

const { partitionKey, sortKey } = TABLE;
/** Conflicts with transactions on the presence item before recording the newest message gives up (a retry-safe 503). */
const MAX_CONFLICTS = 6;

export function messageLog(table: TableAccess): MessageLog {
  return {
    async lastMessage(chapterId) {
      const out = await table.query({
        KeyConditionExpression: '#pk = :chapter AND begins_with(#sk, :msg)',
        ExpressionAttributeNames: { '#pk': partitionKey.name, '#sk': sortKey.name },
        ExpressionAttributeValues: { ':chapter': chapterId, ':msg': MESSAGE_SK_PREFIX },
        ConsistentRead: true,
        ScanIndexForward: false,
        Limit: 1,
      });
      const item = out.Items?.[0];
      return item && loggedMessageFromItem(item);
    },

    async message(chapterId, id) {
      const out = await table.get({ Key: itemKey(chapterId, messageSk(id)), ConsistentRead: true });
      return out.Item && loggedMessageFromItem(out.Item);
    },

    async recordNewest(chapterId, { id, create_time }) {
      const record = () =>
        conditionally(
          table.update({
            Key: itemKey(chapterId, PRESENCE_SK),
            UpdateExpression: 'SET newest_id = :id, newest_time = :time',
            ConditionExpression: 'attribute_not_exists(newest_id) OR newest_id < :id',
            ExpressionAttributeValues: { ':id': id, ':time': create_time },
          }),
        );
      // A failed condition means a newer message is recorded: done. A join or leave in flight on the
      // presence item makes the update fail with a conflict, which the SDK does not retry: we do.
      for (let conflicts = 0; ; conflicts++) {
        try {
          await record();
          return;
        } catch (error) {
          if ((error as { name?: string }).name !== 'TransactionConflictException') throw error;
          if (conflicts + 1 >= MAX_CONFLICTS) throw new StorageUnavailableError(error);
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** conflicts));
        }
      }
    },

    putMessageIfAbsent(chapterId, message) {
      return table.putIfAbsent({ ...messageItem(chapterId, message) }, { stamped: true });
    },

    async reservedId(chapterId, userId, clientMsgId) {
      const out = await table.get({ Key: itemKey(chapterId, sendReservationSk(userId, clientMsgId)), ConsistentRead: true });
      return (out.Item as SendReservationItem | undefined)?.msg_id;
    },

    reserveIdIfAbsent(chapterId, userId, clientMsgId, msgId, expiresAt) {
      const item: SendReservationItem = { chapter_id: chapterId, sk: sendReservationSk(userId, clientMsgId), msg_id: msgId, expires_at: expiresAt };
      return table.putIfAbsent({ ...item });
    },

    moveReservation(chapterId, userId, clientMsgId, from, to) {
      return conditionally(
        table.update({
          Key: itemKey(chapterId, sendReservationSk(userId, clientMsgId)),
          UpdateExpression: 'SET msg_id = :to',
          ConditionExpression: 'msg_id = :from',
          ExpressionAttributeValues: { ':from': from, ':to': to },
        }),
      );
    },
  };
}
