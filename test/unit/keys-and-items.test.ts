/** The key encoding: the sort order the single-Query poll depends on. */
import { MAX_MESSAGE_LENGTH } from '../../lambda/contract';
import { MAX_INDEX_ENTRY_BYTES, MAX_MESSAGE_ITEM_BYTES, itemBytes, loggedMessageFromItem, messageFromItem, messageItem } from '../../lambda/data/items';
import { HEAD_READ_UNITS, POLL_READ_UNITS } from '../../lambda/domain/find-group-chat';
import { MAX_MESSAGES_PER_SECOND } from '../../lambda/domain/send-group-chat';
import { PRESENCE_SK, memberSk, messageSk, sendReservationSk } from '../../lambda/data/keys';

describe('sort keys', () => {
  it('sort member items before message items before the presence item before send reservations', () => {
    const keys = [sendReservationSk(1, 'a'), PRESENCE_SK, messageSk(1), memberSk(99), messageSk(Number.MAX_SAFE_INTEGER), memberSk(1)];
    expect([...keys].sort()).toEqual([
      memberSk(1),
      memberSk(99),
      messageSk(1),
      messageSk(Number.MAX_SAFE_INTEGER),
      PRESENCE_SK,
      sendReservationSk(1, 'a'),
    ]);
  });

  it('sort message ids numerically, up to the largest safe integer', () => {
    const ids = [10, 9, 100, 1, Number.MAX_SAFE_INTEGER, 99];
    const byKey = [...ids].sort((a, b) => (messageSk(a) < messageSk(b) ? -1 : 1));
    expect(byKey).toEqual([...ids].sort((a, b) => a - b));
  });
});

describe('message items', () => {
  it('round-trip to exactly the contract fields, in the contract order, without internals', () => {
    const message = { id: 5, user_id: 1, user_type: 3, user_name: 'n', msg_body: 'b', create_time: 1719283991 };
    const item = messageItem(7, { ...message, origin: '1#client-key', second_seq: 2 });
    expect(item).toMatchObject({ chapter_id: 7, sk: messageSk(5), origin: '1#client-key', second_seq: 2 });
    expect(Object.keys(messageFromItem(item))).toEqual(['id', 'user_id', 'user_type', 'user_name', 'msg_body', 'create_time']);
    expect(messageFromItem(item)).toEqual(message);
    expect(loggedMessageFromItem(item)).toEqual({ ...message, origin: '1#client-key', second_seq: 2 });
  });
});

describe('the size of a message item, as DynamoDB counts it for capacity', () => {
  it('counts names and UTF-8 bytes of strings, and numbers by significant digits', () => {
    // name + value: 'a' + 5 digits → 1 + (3 + 1); 'b' + '汉' → 1 + 3; 'c' + 100 (one significant digit) → 1 + (1 + 1).
    expect(itemBytes({ a: 12345, b: '汉', c: 100 })).toBe(5 + 4 + 3);
  });

  it('bounds every message a send can write, and its index entry', () => {
    expect(MAX_MESSAGE_ITEM_BYTES).toBeGreaterThan(4 * MAX_MESSAGE_LENGTH);
    expect(MAX_INDEX_ENTRY_BYTES).toBeGreaterThan(MAX_MESSAGE_ITEM_BYTES + 100);
  });

  it('lets a whole second of the largest messages, and the next message, fit in one poll after its first reads', () => {
    // A legacy page never ends inside a second: it must always be able to read one whole second and see where it ends.
    const pageBytes = Math.floor(POLL_READ_UNITS - HEAD_READ_UNITS) * 4096;
    expect((MAX_MESSAGES_PER_SECOND + 1) * MAX_INDEX_ENTRY_BYTES).toBeLessThanOrEqual(pageBytes);
  });
});
