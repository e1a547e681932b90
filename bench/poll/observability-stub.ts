/**
 * lambda/http/observability.ts with every export a no-op, for ./breakdown.ts only: what the
 * Powertools logger and metrics cost a poll is the difference between the two builds. (Still
 * needed now that observability runs nothing at import: the cost measured is per poll.)
 * Imports nothing, so it stands alone in the bundle; it must keep the real module's exports.
 */
const noop = (): void => undefined;

export class Telemetry {
  readonly logger = { error: noop, debug: noop, info: noop, warn: noop };
  readonly metrics = { addMetric: noop, hasStoredMetrics: () => false, publishStoredMetrics: noop };
  count = noop;
  counted =
    () =>
    <T>(result: T): T =>
      result;
  countedPoll = <T>(_legacy: boolean, page: T): T => page;
  countRetries = noop;
}

export const describeError = (error: unknown): Record<string, unknown> => ({ error: String(error) });
export const observability = (): [] => [];
