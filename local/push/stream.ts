/**
 * The local event source mapping: reads DynamoDB Local's stream of the table as Lambda reads a
 * shard — GetRecords about four times a second (every POLL_INTERVAL_MS), following shard changes —
 * applies the same filter patterns (PUSH_STREAM) and calls the fan-out handler with a
 * DynamoDBStreamEvent. Records the handler reports as failed (batchItemFailures) are delivered again
 * from the first of them, up to PUSH_STREAM.retryAttempts times, before the shard moves on.
 */
import { DescribeTableCommand, DynamoDBClient, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ENV, PUSH_STREAM, TABLE } from '../../lambda/contract';
import { dynamoDbConfig } from '../../lambda/data';
import { matchesAnyPattern, type FilterPattern } from './filter';

/** Lambda polls each shard of a DynamoDB stream about four times a second. */
export const POLL_INTERVAL_MS = 250;

export type FanOutHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

interface Shard {
  iterator?: string;
  /** Records to deliver again (the handler reported them failed), and how often they were. */
  retry?: { records: DynamoDBRecord[]; attempts: number };
}

export interface StreamPoller {
  /** Filtered records handed to the fan-out, in all. */
  readonly delivered: number;
  close(): Promise<void>;
}

/** The table's stream ARN, enabling the stream first on a table made before push (a persisted local table). */
async function streamArnOf(db: DynamoDBClient, tableName: string): Promise<string> {
  const { Table } = await db.send(new DescribeTableCommand({ TableName: tableName }));
  if (Table?.LatestStreamArn && Table.StreamSpecification?.StreamEnabled) return Table.LatestStreamArn;
  await db.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE.streamViewType } }));
  const after = await db.send(new DescribeTableCommand({ TableName: tableName }));
  if (!after.Table?.LatestStreamArn) throw new Error(`table ${tableName} has no stream`);
  return after.Table.LatestStreamArn;
}

/** A stream record as Lambda hands it to a function. */
function lambdaRecord(record: _Record, streamArn: string): DynamoDBRecord {
  const { ApproximateCreationDateTime, ...dynamodb } = record.dynamodb ?? {};
  return {
    ...(record as unknown as DynamoDBRecord),
    eventSourceARN: streamArn,
    dynamodb: {
      ...(dynamodb as DynamoDBRecord['dynamodb']),
      ...(ApproximateCreationDateTime && { ApproximateCreationDateTime: Math.floor(new Date(ApproximateCreationDateTime).getTime() / 1000) }),
    },
  };
}

export async function startStreamPoller(options: { endpoint: string; tableName: string; handler: FanOutHandler; intervalMs?: number }): Promise<StreamPoller> {
  const config = dynamoDbConfig({ ...process.env, [ENV.dynamodbEndpoint]: options.endpoint });
  const db = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient({ endpoint: config.endpoint, region: config.region, credentials: config.credentials });
  const streamArn = await streamArnOf(db, options.tableName);
  const patterns = PUSH_STREAM.filterPatterns as unknown as FilterPattern[];
  const shards = new Map<string, Shard>();
  const finished = new Set<string>();
  let delivered = 0;
  let stopped = false;

  /** New shards: at start the open ones from their newest record (LATEST, as the mapping starts), later ones from their first. */
  async function discover(first: boolean): Promise<void> {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      const id = shard.ShardId!;
      if (shards.has(id) || finished.has(id)) continue;
      if (first && shard.SequenceNumberRange?.EndingSequenceNumber) {
        finished.add(id);
        continue;
      }
      const type = first ? 'LATEST' : 'TRIM_HORIZON';
      const { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: id, ShardIteratorType: type }));
      shards.set(id, { iterator: ShardIterator });
    }
  }

  async function deliver(shard: Shard, records: DynamoDBRecord[], attempts: number): Promise<void> {
    if (records.length === 0) return;
    delivered += records.length;
    let answer: DynamoDBBatchResponse | void;
    try {
      answer = await options.handler({ Records: records });
    } catch (error) {
      console.error('push fan-out failed', error);
      answer = { batchItemFailures: [{ itemIdentifier: records[0].dynamodb!.SequenceNumber! }] };
    }
    const failed = new Set((answer?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    const from = records.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber ?? ''));
    if (from < 0 || attempts >= PUSH_STREAM.retryAttempts) {
      if (from >= 0) console.error(`push fan-out: ${records.length - from} stream records dropped after ${attempts + 1} attempts`);
      shard.retry = undefined;
    } else {
      shard.retry = { records: records.slice(from), attempts: attempts + 1 };
    }
  }

  async function pollShard(id: string, shard: Shard): Promise<void> {
    if (shard.retry) return deliver(shard, shard.retry.records, shard.retry.attempts);
    if (!shard.iterator) {
      shards.delete(id);
      finished.add(id);
      return;
    }
    const out = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: PUSH_STREAM.batchSize }));
    shard.iterator = out.NextShardIterator;
    // (No maximum record age here: a stream record's ApproximateCreationDateTime is rounded down to the minute.)
    const records = (out.Records ?? []).map((r) => lambdaRecord(r, streamArn)).filter((r) => matchesAnyPattern(r, patterns));
    await deliver(shard, records, 0);
  }

  await discover(true);
  let ticks = 0;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      try {
        for (const [id, shard] of shards) await pollShard(id, shard);
        // New shards are looked for once a second, after the reads (so no read waits for it).
        if (++ticks % 4 === 0) await discover(false);
      } catch (error) {
        console.error('push stream poll failed', error);
      }
      const wait = (options.intervalMs ?? POLL_INTERVAL_MS) - (Date.now() - started);
      if (wait > 0 && !stopped) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();

  return {
    get delivered() {
      return delivered;
    },
    async close() {
      stopped = true;
      await loop;
      streams.destroy();
      db.destroy();
    },
  };
}
