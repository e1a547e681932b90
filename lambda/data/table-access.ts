/**
 * The chat table, reached through two clients. Every request of the store modules goes through
 * here: the table name is filled in, and the SDK's transient failures become StorageUnavailableError.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  type BatchGetCommandInput,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  type GetCommandInput,
  type QueryCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../contract';
import { storageError } from './errors';
import type { Key } from './keys';

export interface TableClients {
  /** Every request but message puts, with the SDK's retries. */
  db: DynamoDBDocumentClient;
  /** Message puts: one attempt each (see singleAttemptConfig in ./client). */
  stampedWrites: DynamoDBDocumentClient;
}

type WithoutTable<T> = Omit<T, 'TableName'>;

export class TableAccess {
  constructor(
    private readonly clients: TableClients,
    readonly name: string,
    /** Aborts every request of this access (the request's deadline). */
    private readonly signal?: AbortSignal,
  ) {}

  query(input: WithoutTable<QueryCommandInput>) {
    return this.call(this.clients.db.send(new QueryCommand({ TableName: this.name, ...input }), this.options()));
  }

  get(input: WithoutTable<GetCommandInput>) {
    return this.call(this.clients.db.send(new GetCommand({ TableName: this.name, ...input }), this.options()));
  }

  /** BatchGetItem of `keys` in this table. */
  batchGet(keys: Key[], options: Omit<NonNullable<BatchGetCommandInput['RequestItems']>[string], 'Keys'>) {
    return this.call(this.clients.db.send(new BatchGetCommand({ RequestItems: { [this.name]: { Keys: keys, ...options } } }), this.options()));
  }

  /** One BatchWriteItem deleting `keys` (at most 25) in this table; answers what was left unprocessed. */
  batchDelete(keys: Key[]) {
    return this.call(
      this.clients.db.send(new BatchWriteCommand({ RequestItems: { [this.name]: keys.map((Key) => ({ DeleteRequest: { Key } })) } }), this.options()),
    );
  }

  update(input: WithoutTable<UpdateCommandInput>) {
    return this.call(this.clients.db.send(new UpdateCommand({ TableName: this.name, ...input }), this.options()));
  }

  delete(input: WithoutTable<DeleteCommandInput>) {
    return this.call(this.clients.db.send(new DeleteCommand({ TableName: this.name, ...input }), this.options()));
  }

  /** One TransactWriteItems (the SDK gives it a ClientRequestToken that its own retries reuse). */
  transactWrite(items: NonNullable<TransactWriteCommandInput['TransactItems']>) {
    return this.call(this.clients.db.send(new TransactWriteCommand({ TransactItems: items }), this.options()));
  }

  /** Writes the item unless one with its key exists: true when written. `stamped` puts go out once, with no SDK retry. */
  putIfAbsent(item: Record<string, unknown>, { stamped = false } = {}): Promise<boolean> {
    const client = stamped ? this.clients.stampedWrites : this.clients.db;
    const put = new PutCommand({
      TableName: this.name,
      Item: item,
      ConditionExpression: 'attribute_not_exists(#sk)',
      ExpressionAttributeNames: { '#sk': TABLE.sortKey.name },
    });
    return conditionally(this.call(client.send(put, this.options())));
  }

  destroy(): void {
    this.clients.db.destroy();
    this.clients.stampedWrites.destroy();
  }

  private options() {
    return { abortSignal: this.signal };
  }

  private async call<T>(request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      throw storageError(error);
    }
  }
}

/** Runs a conditional write: true when applied, false when its condition did not hold. */
export async function conditionally(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
