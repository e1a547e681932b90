/**
 * What push needs (lambda/domain/push.ts): the subscriptions of connections to chapters (the data
 * layer keeps them in the chat table), the connections themselves (API Gateway's management API),
 * and the table's changes that connected members hear of (read from its stream).
 */
import type { Message, PushFrame } from '../contract';

/** A connection that receives a chapter's new messages, for one user. */
export interface Subscription {
  chapterId: number;
  userId: number;
  connectionId: string;
  /** When it was made (epoch ms). */
  connectedAt: number;
}

export interface SubscriptionStore {
  /** Whether `userId` is a member of every one of `chapterIds` (strongly consistent). */
  isMemberOfAll(userId: number, chapterIds: readonly number[]): Promise<boolean>;
  /**
   * Subscribes the connection to every chapter, in one write that holds only if the user is a
   * member of each at that moment: false, and nothing written, when not. Kept until `expiresAt` (epoch s).
   */
  subscribe(connectionId: string, userId: number, chapterIds: readonly number[], connectedAt: number, expiresAt: number): Promise<boolean>;
  /** Deletes the connection's subscriptions (absent ones are fine). */
  unsubscribe(connectionId: string, userId: number, chapterIds: readonly number[]): Promise<void>;
  /** A chapter's subscriptions (strongly consistent: a connection made before a message is never missed); of one user when `userId` is given. */
  subscriptions(chapterId: number, userId?: number): Promise<Subscription[]>;
  removeSubscription(subscription: Subscription): Promise<void>;
}

export interface ConnectionGateway {
  /** Sends the frame (JSON text) to the connection: false when API Gateway says it is gone (410). Other failures throw. */
  post(connectionId: string, frame: PushFrame): Promise<boolean>;
}

/**
 * A change of the table that connected members hear of, as the stream delivered it. `ref` names
 * its stream record (the sequence number Lambda's batchItemFailures take).
 */
export type ChatChange =
  | { kind: 'message'; chapterId: number; message: Message; ref: string }
  | { kind: 'memberRemoved'; chapterId: number; userId: number; ref: string };
