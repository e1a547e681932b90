/**
 * How CloudWatch would judge a synthesized alarm on one period of made-up data: its metric (or its
 * metric math: IF, FILL, + - * /, comparisons) against its threshold, no data being "not breaching"
 * (every alarm of ChatMonitoring treats missing data so). It lets a test show an alarm firing on the
 * failure it is for, staying quiet otherwise, and a deliberately broken copy of it missing that failure.
 */

/** One metric's value in the period (its statistic's, e.g. the Sum). */
export interface Datum {
  namespace: string;
  name: string;
  dimensions: Record<string, unknown>;
  value: number;
}

/** The value of the metric with exactly these namespace, name and dimensions; undefined when the data has none. */
function valueOf(data: Datum[], namespace: string, name: string, dimensions: Array<{ Name: string; Value: unknown }>): number | undefined {
  const wanted = canonical(Object.fromEntries(dimensions.map((d) => [d.Name, d.Value])));
  return data.find((d) => d.namespace === namespace && d.name === name && canonical(d.dimensions) === wanted)?.value;
}

const canonical = (dimensions: Record<string, unknown>) => JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b)));

/** The alarm's value for the period: undefined is no data. */
export function alarmValue(alarm: Record<string, any>, data: Datum[]): number | undefined {
  if (!alarm.Metrics) return valueOf(data, alarm.Namespace, alarm.MetricName, alarm.Dimensions ?? []);
  const values: Record<string, number | undefined> = {};
  let expression: string | undefined;
  for (const m of alarm.Metrics) {
    if (m.Expression) expression = m.Expression;
    else values[m.Id] = valueOf(data, m.MetricStat.Metric.Namespace, m.MetricStat.Metric.MetricName, m.MetricStat.Metric.Dimensions ?? []);
  }
  if (expression === undefined) throw new Error('a math alarm without an expression');
  // A period in which none of the metrics has a value has no data point at all (FILL fills gaps between data points).
  if (Object.values(values).every((v) => v === undefined)) return undefined;
  return evaluate(expression, values);
}

/** Whether the alarm is in ALARM after a run of periods that each look like `data`. */
export function fires(alarm: Record<string, any>, data: Datum[]): boolean {
  const value = alarmValue(alarm, data);
  if (value === undefined) return false; // treatMissingData: notBreaching
  const threshold: number = alarm.Threshold;
  switch (alarm.ComparisonOperator) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
    default:
      throw new Error(`comparison ${alarm.ComparisonOperator}`);
  }
}

type Value = number | undefined;

/** The metric math subset the alarms use, by recursive descent; a missing value propagates (FILL replaces it). */
export function evaluate(expression: string, values: Record<string, Value>): Value {
  const tokens = expression.match(/\d+(?:\.\d+)?|[A-Za-z_]\w*|>=|<=|==|!=|[-+*/(),<>]/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const token = tokens[at++];
    if (expected !== undefined && token !== expected) throw new Error(`expected ${expected} at ${at} in ${expression}, got ${token}`);
    return token;
  };
  const both = (a: Value, b: Value, op: (x: number, y: number) => number): Value => (a === undefined || b === undefined ? undefined : op(a, b));

  const comparison = (): Value => {
    const left = additive();
    const op = peek();
    if (!['>=', '<=', '==', '!=', '>', '<'].includes(op ?? '')) return left;
    take();
    const right = additive();
    const compare: Record<string, (x: number, y: number) => boolean> = {
      '>=': (x, y) => x >= y,
      '<=': (x, y) => x <= y,
      '==': (x, y) => x === y,
      '!=': (x, y) => x !== y,
      '>': (x, y) => x > y,
      '<': (x, y) => x < y,
    };
    return both(left, right, (x, y) => (compare[op!](x, y) ? 1 : 0));
  };
  const additive = (): Value => {
    let value = term();
    while (peek() === '+' || peek() === '-') {
      const op = take();
      const right = term();
      value = both(value, right, op === '+' ? (x, y) => x + y : (x, y) => x - y);
    }
    return value;
  };
  const term = (): Value => {
    let value = factor();
    while (peek() === '*' || peek() === '/') {
      const op = take();
      const right = factor();
      value = both(value, right, op === '*' ? (x, y) => x * y : (x, y) => x / y);
    }
    return value;
  };
  const factor = (): Value => {
    const token = take();
    if (token === '(') {
      const value = comparison();
      take(')');
      return value;
    }
    if (/^\d/.test(token)) return Number(token);
    if (token === 'IF' || token === 'FILL') {
      take('(');
      const args = [comparison()];
      while (peek() === ',') {
        take();
        args.push(comparison());
      }
      take(')');
      if (token === 'FILL') return args[0] ?? args[1];
      return args[0] === undefined ? undefined : args[0] !== 0 ? args[1] : args[2];
    }
    if (!(token in values)) throw new Error(`unknown id ${token} in ${expression}`);
    return values[token];
  };

  const value = comparison();
  if (at !== tokens.length) throw new Error(`unparsed rest of ${expression}: ${tokens.slice(at).join(' ')}`);
  return value;
}
