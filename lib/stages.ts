/**
 * Deployment stages: one stack per stage (`cdk deploy -c stage=prod`), each with its own names,
 * data safety, log retention, release strategy, throttling and membership. These are the stage's
 * traits, reviewed with the code; the settings of each stage's deployment (issuer, audience,
 * e-mail, domain, overrides of the throttles, membership and release) live in stages.json, and
 * `-c key=value` overrides those (lib/settings.ts).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { MembershipMode } from '../lambda/contract';

/**
 * How a deploy moves the API's traffic to the new code. Every function is published as a version
 * behind the alias `live`, which the API calls; either way the previous versions stay, so the alias
 * can be pointed back by hand in seconds.
 * - `canary`: CodeDeploy sends 10 % of each function's calls to the new version for 5 minutes, then
 *   all of them; it moves the alias back by itself when a rollback alarm fires meanwhile
 *   (lib/release.ts, docs/operations.md "Rollback").
 * - `allAtOnce`: the alias moves to the new version as the stack updates.
 */
export const RELEASE_STRATEGIES = ['canary', 'allAtOnce'] as const;
export type ReleaseStrategy = (typeof RELEASE_STRATEGIES)[number];

export interface StageSettings {
  /** What happens to the table when it leaves the stack. */
  readonly tableRemovalPolicy: RemovalPolicy;
  /** DynamoDB deletion protection: the table cannot be deleted until it is turned off. */
  readonly tableDeletionProtection: boolean;
  /** Retention of the functions' and the API's access logs. */
  readonly logRetention: RetentionDays;
  /** What happens to the log groups when they leave the stack (`cdk destroy` included). */
  readonly logRemovalPolicy: RemovalPolicy;
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
  /** How a deploy moves traffic to new code: gradually with automatic rollback, or at once. */
  readonly release: ReleaseStrategy;
  /**
   * The Lambda concurrency quota of the account and region the stage deploys to. Its functions'
   * reserved concurrency must leave 100 of it unreserved (AWS's rule); synth refuses otherwise.
   */
  readonly accountConcurrency: number;
  /**
   * Concurrent executions reserved for each function, by function id. Not set here: resolveSettings
   * derives them from the throttle by Little's law (lib/concurrency.ts), then applies the stage's
   * `reservedConcurrency` overrides.
   */
  readonly reservedConcurrency?: Readonly<Record<string, number>>;
}

/** Throwaway data and logs: everything goes with `cdk destroy`, and deploys take effect at once. */
const DISPOSABLE = {
  tableRemovalPolicy: RemovalPolicy.DESTROY,
  tableDeletionProtection: false,
  logRetention: RetentionDays.ONE_WEEK,
  logRemovalPolicy: RemovalPolicy.DESTROY,
  release: 'allAtOnce',
  // AWS's default quota: a fresh account takes the stage (its reservations leave 100 unreserved).
  accountConcurrency: 1000,
} as const;

export const STAGES = {
  /** Developers' sandbox: a low ceiling on cost (≈ 250 clients). */
  dev: {
    ...DISPOSABLE,
    throttle: { rateLimit: 50, burstLimit: 100 },
    membership: 'self',
  },
  /**
   * Real users: the chat history and the logs survive the stack and mistakes, logs last a quarter
   * (≈ 5 000 clients), and a release reaches everyone only after 5 minutes on 10 % of the calls.
   */
  prod: {
    tableRemovalPolicy: RemovalPolicy.RETAIN,
    tableDeletionProtection: true,
    logRetention: RetentionDays.THREE_MONTHS,
    logRemovalPolicy: RemovalPolicy.RETAIN,
    throttle: { rateLimit: 1000, burstLimit: 2000 },
    // Membership is enrolment: the course platform knows it, users do not decide it.
    membership: 'managed',
    release: 'canary',
    // Its reservations at 1 000 requests/s need more than AWS's default 1 000: request this quota
    // for prod's account and region before the first deploy (docs/operations.md, "Reserved concurrency").
    accountConcurrency: 6000,
  },
  /**
   * A disposable stack for demos, with dev's traits; stages.json makes it the open demo (no
   * authorizer, x-user-* headers trusted), so that no other stage becomes one by a stray `-c`.
   */
  demo: {
    ...DISPOSABLE,
    throttle: { rateLimit: 50, burstLimit: 100 },
    membership: 'self',
  },
} as const satisfies Record<string, StageSettings>;

export type StageName = keyof typeof STAGES;

export const DEFAULT_STAGE: StageName = 'dev';

export function isStageName(name: string): name is StageName {
  return Object.hasOwn(STAGES, name);
}
