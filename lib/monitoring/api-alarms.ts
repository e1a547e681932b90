/**
 * ApiAlarms: the stage's 5xx and 4xx rates, judged only with enough requests; each route's 5xx rate,
 * judged once a few of its requests failed; and the dashboard rows of the API's requests, error
 * rates and latency, overall and per route.
 *
 * Per route, the source is API Gateway's own per-route metrics (the stage's detailed metrics,
 * lib/chat-api.ts), not the functions' metrics: they count every 5xx a client got on the route —
 * also those no handler could count, because Lambda throttled the function (its reserved concurrency
 * reached), the function timed out or crashed, or API Gateway could not invoke it — which are
 * exactly what a brownout produces. They cost about six CloudWatch metrics per route; the functions'
 * metrics would need a per-route dimension too, and still miss those failures.
 */
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ROUTES, type RouteSpec } from '../../lambda/contract';
import { MONITORING_PERIOD, type AlarmFactory } from './alarms';
import { graph } from './dashboard';

/** API rate alarms only judge windows with at least this many requests (≈ 2 clients polling every 5 s). */
const MIN_REQUESTS_FOR_RATE = 100;
/** The alarms' thresholds, in % of requests. */
const MAX_5XX_PERCENT = 1;
const MAX_4XX_PERCENT = 10;
/**
 * A route's 5xx alarm: above this % of the route's requests, once at least MIN_ROUTE_5XX of them
 * failed in 5 minutes. Judged per route, sends that all fail fire it however many polls succeed
 * beside them; a lone failed request among a few does not.
 */
const MAX_ROUTE_5XX_PERCENT = 5;
const MIN_ROUTE_5XX = 3;

export interface ApiAlarmsProps {
  /** The HTTP API; the alarms watch its stage `stageName`. */
  readonly httpApi: apigwv2.IHttpApi;
  /** @default '$default' */
  readonly stageName?: string;
  /**
   * The routes that get a 5xx alarm each (their method and path are the metrics' dimensions).
   * @default ROUTES
   */
  readonly routes?: ReadonlyArray<Pick<RouteSpec, 'id' | 'method' | 'path'>>;
}

export class ApiAlarms {
  /** Requests with their 4xx and 5xx, both error rates, and latency. */
  readonly graphs: cloudwatch.IWidget[];
  /** Per route: requests, 5xx, 5xx rate. */
  readonly routeGraphs: cloudwatch.IWidget[];

  constructor(alarms: AlarmFactory, props: ApiAlarmsProps) {
    const apiMetric = (metricName: string, statistic: string, label: string, route?: Pick<RouteSpec, 'method' | 'path'>) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: {
          ApiId: props.httpApi.apiId,
          Stage: props.stageName ?? '$default',
          // An HTTP API's per-route metrics name the route by its method and path.
          ...(route && { Method: route.method, Resource: route.path }),
        },
        statistic,
        period: MONITORING_PERIOD,
        label,
      });
    const requests = apiMetric('Count', cloudwatch.Stats.SUM, 'Requests');
    const serverErrors = apiMetric('5xx', cloudwatch.Stats.SUM, '5xx');
    const clientErrors = apiMetric('4xx', cloudwatch.Stats.SUM, '4xx');
    const rate = (errorsId: string, errors: cloudwatch.Metric, label: string) =>
      new cloudwatch.MathExpression({
        // A window with no request has no value (no data: not breaching); one with too few is 0.
        expression: `IF(requests >= ${MIN_REQUESTS_FOR_RATE}, 100 * FILL(${errorsId}, 0) / requests, 0)`,
        usingMetrics: { requests, [errorsId]: errors },
        period: MONITORING_PERIOD,
        label,
      });
    const serverErrorRate = rate('serverErrors', serverErrors, '5xx rate (%)');
    const clientErrorRate = rate('clientErrors', clientErrors, '4xx rate (%)');

    alarms.alarm('Api5xxRate', {
      metric: serverErrorRate,
      threshold: MAX_5XX_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      description:
        `More than ${MAX_5XX_PERCENT} % of API requests answered 5xx in 5 minutes (with at least ${MIN_REQUESTS_FOR_RATE} requests). ` +
        'Clients see failures. Check the Lambda error/throttle alarms and DynamoDB alarms, then the access log (status, integrationError).',
    });
    alarms.alarm('Api4xxRate', {
      metric: clientErrorRate,
      threshold: MAX_4XX_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // Some 4xx are normal (expired tokens, a client's bad request); a sustained share is not.
      evaluationPeriods: 3,
      description:
        `More than ${MAX_4XX_PERCENT} % of API requests answered 4xx for 15 minutes (with at least ${MIN_REQUESTS_FOR_RATE} requests per 5 minutes). ` +
        'In the access log, group by status and routeKey: 429 = stage throttle too low, 401 = token/issuer/audience mismatch, 400 = a client sending bad requests.',
    });

    const routeLines: Record<'requests' | 'serverErrors' | 'rates', cloudwatch.IMetric[]> = { requests: [], serverErrors: [], rates: [] };
    for (const route of props.routes ?? ROUTES) {
      const routeRequests = apiMetric('Count', cloudwatch.Stats.SUM, route.id, route);
      const routeServerErrors = apiMetric('5xx', cloudwatch.Stats.SUM, route.id, route);
      // Ids of the route's own (one graph shows every route's rate, and ids are per graph).
      const [requestsId, errorsId] = [`${lowerFirst(route.id)}Requests`, `${lowerFirst(route.id)}5xx`];
      const routeRate = new cloudwatch.MathExpression({
        // No request, no value (not breaching); fewer than MIN_ROUTE_5XX failures, 0.
        expression: `IF(FILL(${errorsId}, 0) >= ${MIN_ROUTE_5XX}, 100 * FILL(${errorsId}, 0) / ${requestsId}, 0)`,
        usingMetrics: { [requestsId]: routeRequests, [errorsId]: routeServerErrors },
        period: MONITORING_PERIOD,
        label: route.id,
      });
      routeLines.requests.push(routeRequests);
      routeLines.serverErrors.push(routeServerErrors);
      routeLines.rates.push(routeRate);
      alarms.alarm(`${route.id}Route5xxRate`, {
        metric: routeRate,
        threshold: MAX_ROUTE_5XX_PERCENT,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        description:
          `More than ${MAX_ROUTE_5XX_PERCENT} % of ${route.method} ${route.path} requests answered 5xx in 5 minutes (at least ${MIN_ROUTE_5XX} of them), ` +
          'however the other routes did. Check that function\'s Errors, Throttles and P99Duration alarms and the Answered503 alarm, then the access log ' +
          `filtered on routeKey "${route.method} ${route.path}" (status, errorMessage, integrationError) and the function's log group.`,
      });
    }

    this.routeGraphs = [
      graph('Requests per route', routeLines.requests),
      graph('5xx per route', routeLines.serverErrors),
      graph('5xx rate per route (%)', routeLines.rates, [{ value: MAX_ROUTE_5XX_PERCENT, label: 'route 5xx alarm' }]),
    ];

    this.graphs = [
      graph('API requests, 4xx, 5xx', [requests, clientErrors, serverErrors]),
      graph('API error rates (%)', [serverErrorRate, clientErrorRate], [
        { value: MAX_5XX_PERCENT, label: '5xx alarm' },
        { value: MAX_4XX_PERCENT, label: '4xx alarm' },
      ]),
      graph('API latency (ms)', [
        apiMetric('Latency', cloudwatch.Stats.p(50), 'Latency p50'),
        apiMetric('Latency', cloudwatch.Stats.p(99), 'Latency p99'),
        apiMetric('IntegrationLatency', cloudwatch.Stats.p(99), 'Integration latency p99'),
      ]),
    ];
  }
}

/** `SendGroupChat` → `sendGroupChat`: a metric math id starts with a lower-case letter. */
function lowerFirst(id: string): string {
  return id.charAt(0).toLowerCase() + id.slice(1);
}
