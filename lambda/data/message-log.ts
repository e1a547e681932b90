/** The message log a send appends to, and the send reservations (lambda/domain/send-group-chat.ts says how they work). */
import { TABLE } from '../contract';
import type { MessageLog } from '../ports/chat-store';
import { loggedMessageFromItem, messageItem, type SendReservationItem } from './items';
import { MESSAGE_SK_PREFIX, itemKey, messageSk, sendReservationSk } from './keys';
import { conditionally, type TableAccess } from './table-access';

const { partitionKey, sortKey } = TABLE;

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
