/**
 * ChatTable: the chat table, mapped from the one schema (TABLE in lambda/contract) that local runs
 * map to CreateTable too.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { TABLE } from '../lambda/contract';

export interface ChatTableProps {
  /** What happens to the table when it leaves the stack. */
  readonly removalPolicy: RemovalPolicy;
  /** The table cannot be deleted until this is turned off. */
  readonly deletionProtection: boolean;
}

// dynamodb.Table (AWS::DynamoDB::Table), not TableV2: cdk-nag's PITR rule only checks this type.
export class ChatTable extends dynamodb.Table {
  constructor(scope: Construct, id: string, props: ChatTableProps) {
    const { partitionKey, sortKey, createTimeIndex, timeToLiveAttribute, streamViewType } = TABLE;
    super(scope, id, {
      partitionKey: attribute(partitionKey),
      sortKey: attribute(sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Which keys DynamoDB throttles: a hot chapter's partition (chapter_id) shows in CloudWatch
      // Contributor Insights (docs/operations.md). Throttled requests only: nothing counted while all is well.
      contributorInsightsSpecification: { enabled: true, mode: dynamodb.ContributorInsightsMode.THROTTLED_KEYS },
      timeToLiveAttribute,
      // Read by the push fan-out (lib/push.ts); reads by a Lambda event source mapping cost nothing.
      stream: dynamodb.StreamViewType[streamViewType],
      removalPolicy: props.removalPolicy,
      deletionProtection: props.deletionProtection,
    });
    this.addLocalSecondaryIndex({
      indexName: createTimeIndex.name,
      sortKey: attribute(createTimeIndex.sortKey),
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}

function attribute({ name, type }: { name: string; type: 'N' | 'S' }): dynamodb.Attribute {
  return { name, type: type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING };
}
