/**
 * Lambda event filtering as the stack configures it for the fan-out (PUSH_STREAM.filterPatterns),
 * for the local stream poller: the subset of the pattern syntax the patterns use — nested fields,
 * a list of accepted values, `{ prefix }`. A record is delivered when any pattern matches it.
 */
type Rule = string | number | { prefix: string };
export type FilterPattern = { readonly [field: string]: FilterPattern | readonly Rule[] };

function matchesRule(value: unknown, rule: Rule): boolean {
  if (typeof rule === 'object') return typeof value === 'string' && value.startsWith(rule.prefix);
  return value === rule;
}

export function matchesPattern(record: unknown, pattern: FilterPattern): boolean {
  return Object.entries(pattern).every(([field, expected]) => {
    const value = typeof record === 'object' && record !== null ? (record as Record<string, unknown>)[field] : undefined;
    if (Array.isArray(expected)) return (expected as readonly Rule[]).some((rule) => matchesRule(value, rule));
    return matchesPattern(value, expected as FilterPattern);
  });
}

export function matchesAnyPattern(record: unknown, patterns: readonly FilterPattern[]): boolean {
  return patterns.some((pattern) => matchesPattern(record, pattern));
}
