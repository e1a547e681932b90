/**
 * Deployment stages: one stack per stage (`cdk deploy -c stage=prod`), each with its own names,
 * data safety, log retention, throttling and membership. Context can override the throttles and the
 * membership (lib/app.ts).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { MembershipMode } from '../lambda/contract';

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
  /**
   * Who decides a chapter's members: `managed` — only the course platform's backend, through the
   * IAM-authorized admin routes (join and leave answer 403); `self` — users join and leave on their
   * own (the admin routes work too). An open demo defaults to `self` whatever the stage.
   */
  readonly membership: MembershipMode;
}

export const STAGES = {
  /** Developers' sandbox: throwaway data, short logs, a low ceiling on cost (≈ 250 clients). */
  dev: {
    tableRemovalPolicy: RemovalPolicy.DESTROY,
    tableDeletionProtection: false,
    logRetention: RetentionDays.ONE_WEEK,
    throttle: { rateLimit: 50, burstLimit: 100 },
    membership: 'self',
  },
  /** Real users: the chat history survives the stack and mistakes, logs last a quarter (≈ 5 000 clients). */
  prod: {
    tableRemovalPolicy: RemovalPolicy.RETAIN,
    tableDeletionProtection: true,
    logRetention: RetentionDays.THREE_MONTHS,
    throttle: { rateLimit: 1000, burstLimit: 2000 },
    // Membership is enrolment: the course platform knows it, users do not decide it.
    membership: 'managed',
  },
} as const satisfies Record<string, StageSettings>;

export type StageName = keyof typeof STAGES;

export const DEFAULT_STAGE: StageName = 'dev';

export function isStageName(name: string): name is StageName {
  return Object.hasOwn(STAGES, name);
}
