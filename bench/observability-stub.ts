/**
 * lambda/observability.ts with every export a no-op, for bench/breakdown.ts only: what the
 * Powertools logger and metrics cost a poll is the difference between the two builds.
 */
export const METRICS_NAMESPACE = 'GroupChat';
export const SERVICE_NAME = 'group-chat';
export const METRIC = new Proxy({} as Record<string, string>, { get: (_target, name) => String(name) });
export const logger = { error: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined };
export const metrics = { addMetric: () => undefined, hasStoredMetrics: () => false, publishStoredMetrics: () => undefined };
export const countMetric = (): void => undefined;
export const counted =
  () =>
  <T>(result: T): T =>
    result;
export const countedPoll = <T>(_legacy: boolean, page: T): T => page;
export const describeError = (error: unknown): Record<string, unknown> => ({ error: String(error) });
export const observability = (): [] => [];
