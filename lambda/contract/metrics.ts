/** The functions' CloudWatch metrics, as the functions emit them and the dashboard and alarms read them. */

/** CloudWatch namespace of the functions' metrics. */
export const METRICS_NAMESPACE = 'GroupChat';
/** The `service` of every log line and the metrics' one dimension, unless POWERTOOLS_SERVICE_NAME says otherwise. */
export const SERVICE_NAME = 'group-chat';

/** The metrics the functions emit (all Count, dimension `service`). */
export const METRIC = {
  /** Polls answered with a page (both modes). */
  Polls: 'Polls',
  /** 1 per legacy-mode poll (msg_time), 0 per exact one (last_id): Sum = legacy polls, Average = their share. */
  LegacyPolls: 'LegacyPolls',
  /** Messages in the pages answered (one value per poll: Sum = messages delivered, Average = page size). */
  MessagesReturned: 'MessagesReturned',
  /** Successful send calls (a retry with the same client_msg_id counts again). */
  MessagesSent: 'MessagesSent',
  Joins: 'Joins',
  Leaves: 'Leaves',
  /** Retries the AWS SDK made (each call's attempts − 1; message puts retry in the send loop instead). */
  DynamoDbRetries: 'DynamoDbRetries',
  /** Requests answered 503: the database throttled or failed beyond the retries. */
  Unavailable: 'Unavailable',
  /** Requests answered 500. */
  Errors: 'Errors',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
