/**
 * The push fan-out, fed by the table's stream (filtered to new messages and removed members, see
 * PUSH_STREAM): posts each new message to its chapter's connections and cuts off members who left.
 * Answers the records it could not deliver (ReportBatchItemFailures): Lambda retries from there.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { chatChangesFromStream, connectionGatewayFromEnv, subscriptionStoreFromEnv } from '../data';
import { fanOut } from '../domain/push';
import { describeError, Telemetry } from '../http/observability';
import { pushHandler } from '../http/push';

const telemetry = new Telemetry();
const store = subscriptionStoreFromEnv();
const gateway = connectionGatewayFromEnv();

export const handler = pushHandler<DynamoDBStreamEvent, DynamoDBBatchResponse>(telemetry, async (event) => {
  const { failedRefs, errors } = await fanOut(store, gateway, chatChangesFromStream(event.Records));
  for (const error of errors) telemetry.logger.error('push delivery failed', { error: describeError(error, { stack: false }) });
  return { batchItemFailures: failedRefs.map((itemIdentifier) => ({ itemIdentifier })) };
});
