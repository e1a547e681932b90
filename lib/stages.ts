/**
 * Deployment stages: one stack per stage (`cdk deploy -c stage=prod`), each with its own names,
 * data safety, log retention and throttling. Context can override the throttles (lib/app.ts).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

export interface StageSettings {
  /** What happens to the table when it leaves the stack. */
  readonly tableRemovalPolicy: RemovalPolicy;
  /** DynamoDB deletion protection: the table cannot be deleted until it is turned off. */
  readonly tableDeletionProtection: boolean;
  /** Retention of the functions' and the API's access logs. */
  readonly logRetention: RetentionDays;
  /**
   * Stage-wide API throttling. A client polls every 5 s (0.2 requests/s), and sends, joins and
   * leaves are rare beside that, so `rateLimit` ≈ connected clients ÷ 5. The burst absorbs the
   * synchronised polls of a class that opens the app at once.
   */
  readonly throttle: ThrottleSettings;
}

export const STAGES = {
  /** Developers' sandbox: throwaway data, short logs, a low ceiling on cost (≈ 250 clients). */
  dev: {
    tableRemovalPolicy: RemovalPolicy.DESTROY,
    tableDeletionProtection: false,
    logRetention: RetentionDays.ONE_WEEK,
    throttle: { rateLimit: 50, burstLimit: 100 },
  },
  /** Real users: the chat history survives the stack and mistakes, logs last a quarter (≈ 5 000 clients). */
  prod: {
    tableRemovalPolicy: RemovalPolicy.RETAIN,
    tableDeletionProtection: true,
    logRetention: RetentionDays.THREE_MONTHS,
    throttle: { rateLimit: 1000, burstLimit: 2000 },
  },
} as const satisfies Record<string, StageSettings>;

export type StageName = keyof typeof STAGES;

export const DEFAULT_STAGE: StageName = 'dev';

export function isStageName(name: string): name is StageName {
  return Object.hasOwn(STAGES, name);
}
