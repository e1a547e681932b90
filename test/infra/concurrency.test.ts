/**
 * Timeouts and reserved concurrency per stage, on the synthesized template: each function's timeout
 * follows from its route's deadline, its reservation from the stage's API throttle by Little's law
 * (lib/concurrency.ts), the reservations leave AWS's 100 unreserved of the account's quota, and
 * stages.json or -c override them. docs/operations.md ("Reserved concurrency") has the same numbers.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { NOT_ROUTED, ROUTES } from '../../lambda/contract';
import { buildApp, CONTEXT, ContextError } from '../../lib/app';
import { DEFAULT_ACCOUNT_CONCURRENCY, reservationsFor, UNRESERVED_MINIMUM } from '../../lib/concurrency';
import { STAGES } from '../../lib/stages';
import { JWT_CONTEXT, NO_BUNDLING, PROD_CONTEXT, newApp, stagesFile } from './app';

const FUNCTION_IDS = [...ROUTES, NOT_ROUTED].map((fn) => fn.id);

/** Each HTTP function's timeout (s) and reserved concurrency, as synthesized from `context`. */
function limitsOf(context: Record<string, unknown>): Record<string, { timeout: number; reserved: number | undefined }> {
  const stack = buildApp(newApp({ ...NO_BUNDLING, ...context }));
  const resources = Template.fromStack(stack).toJSON().Resources;
  return Object.fromEntries(
    FUNCTION_IDS.map((id) => {
      const fn = stack.functions[id];
      const properties = resources[stack.getLogicalId(fn.node.defaultChild as never)].Properties;
      return [id, { timeout: properties.Timeout, reserved: properties.ReservedConcurrentExecutions }];
    }),
  );
}
const reservedOf = (context: Record<string, unknown>) => Object.fromEntries(Object.entries(limitsOf(context)).map(([id, { reserved }]) => [id, reserved]));
const sum = (reservations: Record<string, number | undefined>) => Object.values(reservations).reduce((total: number, n) => total + (n ?? 0), 0);

const DEV = JWT_CONTEXT;
const DEMO = { [CONTEXT.stage]: 'demo', [CONTEXT.openDemo]: 'true' };

describe('per stage', () => {
  test('dev (50 requests/s): polls 4 s and 180 reserved, sends 16 s and 40, joins, leaves and the admin routes 16 s and 8 each, `$default` 4 s and 2', () => {
    expect(limitsOf(DEV)).toEqual({
      FindGroupChat: { timeout: 4, reserved: 180 },
      SendGroupChat: { timeout: 16, reserved: 40 },
      JoinGroupChat: { timeout: 16, reserved: 8 },
      LeaveGroupChat: { timeout: 16, reserved: 8 },
      AdminAddMembers: { timeout: 16, reserved: 8 },
      AdminRemoveMembers: { timeout: 16, reserved: 8 },
      NotRouted: { timeout: 4, reserved: 2 },
    });
  });

  test('demo: the same throttle as dev, the same numbers', () => {
    expect(limitsOf(DEMO)).toEqual(limitsOf(DEV));
  });

  test('prod (1 000 requests/s): 3 600 for polls, 800 for sends, 160 for each other write, 40 for `$default`: 5 080, inside its declared quota of 6 000', () => {
    const prod = reservedOf(PROD_CONTEXT);
    expect(prod).toEqual({
      FindGroupChat: 3600,
      SendGroupChat: 800,
      JoinGroupChat: 160,
      LeaveGroupChat: 160,
      AdminAddMembers: 160,
      AdminRemoveMembers: 160,
      NotRouted: 40,
    });
    expect(sum(prod)).toBe(5080);
    expect(STAGES.prod.accountConcurrency).toBe(6000);
    expect(sum(prod)).toBeLessThanOrEqual(STAGES.prod.accountConcurrency - UNRESERVED_MINIMUM);
  });

  test('dev fits a fresh account (quota 1 000, 100 kept unreserved), and so do dev and demo together', () => {
    expect(STAGES.dev.accountConcurrency).toBe(DEFAULT_ACCOUNT_CONCURRENCY);
    expect(DEFAULT_ACCOUNT_CONCURRENCY).toBe(1000);
    expect(sum(reservedOf(DEV))).toBe(254);
    expect(sum(reservedOf(DEV)) + sum(reservedOf(DEMO))).toBeLessThanOrEqual(DEFAULT_ACCOUNT_CONCURRENCY - UNRESERVED_MINIMUM);
  });
});

describe("the rule: Little's law on the throttle", () => {
  test('reserved = ⌈ throttle rate × the route\'s share × its timeout ⌉, for every function', () => {
    const each = (find: number, send: number, write: number, notRouted: number) => ({
      FindGroupChat: find,
      SendGroupChat: send,
      JoinGroupChat: write,
      LeaveGroupChat: write,
      AdminAddMembers: write,
      AdminRemoveMembers: write,
      NotRouted: notRouted,
    });
    // 75/s: 75 × 90 % × 4 s = 270; 75 × 5 % × 16 s = 60; 75 × 1 % × 16 s = 12; 75 × 1 % × 4 s = 3.
    expect(reservationsFor(75)).toEqual(each(270, 60, 12, 3));
    // Rounded up, so that no function is left without any: 1/s × 90 % × 4 s = 3.6 → 4.
    expect(reservationsFor(1)).toEqual(each(4, 1, 1, 1));
    // Polls are sized for nearly all the traffic; the shares add up to the whole throttle.
    expect(ROUTES.find((route) => route.id === 'FindGroupChat')!.trafficPercent).toBe(90);
    expect([...ROUTES, NOT_ROUTED].reduce((total, fn) => total + fn.trafficPercent, 0)).toBe(100);
  });

  test('a stage\'s throttle rate from context moves every reservation with it', () => {
    expect(reservedOf({ ...PROD_CONTEXT, [CONTEXT.throttleRate]: 500 })).toEqual({
      FindGroupChat: 1800,
      SendGroupChat: 400,
      JoinGroupChat: 80,
      LeaveGroupChat: 80,
      AdminAddMembers: 80,
      AdminRemoveMembers: 80,
      NotRouted: 20,
    });
  });
});

describe('overrides', () => {
  test('-c reservedConcurrency sets the functions it names (Id:n, comma-separated); the others keep the rule', () => {
    expect(reservedOf({ ...DEV, [CONTEXT.reservedConcurrency]: 'FindGroupChat:300, SendGroupChat:60' })).toEqual({
      ...reservedOf(DEV),
      FindGroupChat: 300,
      SendGroupChat: 60,
    });
  });

  test('stages.json takes an object per stage, and -c wins over it', () => {
    const file = stagesFile({ dev: { reservedConcurrency: { FindGroupChat: 100, NotRouted: 1 } } });
    expect(reservedOf({ ...DEV, [CONTEXT.stagesFile]: file })).toMatchObject({ FindGroupChat: 100, NotRouted: 1, SendGroupChat: 40 });
    expect(reservedOf({ ...DEV, [CONTEXT.stagesFile]: file, [CONTEXT.reservedConcurrency]: 'FindGroupChat:120' })).toMatchObject({ FindGroupChat: 120, NotRouted: 2 });
    // (-c replaces the file's whole setting: NotRouted is back to the rule's 2.)
  });

  test('prod on an account of the default quota is refused before anything is built, saying what to do', () => {
    expect(() => buildApp(newApp({ ...NO_BUNDLING, ...PROD_CONTEXT, [CONTEXT.accountConcurrency]: 1000 }))).toThrow(
      new ContextError(
        "the functions' reserved concurrency adds up to 5080 (FindGroupChat 3600, SendGroupChat 800, JoinGroupChat 160, LeaveGroupChat 160, " +
          'AdminAddMembers 160, AdminRemoveMembers 160, NotRouted 40), but an account with a quota of 1000 concurrent executions can reserve at most 900 ' +
          '(AWS keeps 100 unreserved): raise the account\'s quota and set accountConcurrency, lower throttleRate, or set reservedConcurrency ' +
          '(docs/operations.md, "Reserved concurrency")',
      ),
    );
    // Each way out works: a smaller throttle, or smaller reservations.
    expect(sum(reservedOf({ ...PROD_CONTEXT, [CONTEXT.accountConcurrency]: 1000, [CONTEXT.throttleRate]: 170 }))).toBeLessThanOrEqual(900);
    expect(sum(reservedOf({ ...PROD_CONTEXT, [CONTEXT.accountConcurrency]: 1000, [CONTEXT.reservedConcurrency]: 'FindGroupChat:200,SendGroupChat:100,JoinGroupChat:20,LeaveGroupChat:20,AdminAddMembers:20,AdminRemoveMembers:20,NotRouted:5' }))).toBe(385);
  });

  test.each([
    [{ [CONTEXT.reservedConcurrency]: 'FindGroupChat:0' }, /reservedConcurrency: FindGroupChat must be a whole number ≥ 1, got "0"/],
    [{ [CONTEXT.reservedConcurrency]: 'FindGroupChat:2.5' }, /FindGroupChat must be a whole number/],
    [{ [CONTEXT.reservedConcurrency]: 'Poll:10' }, /no function "Poll"; the functions are FindGroupChat, SendGroupChat/],
    [{ [CONTEXT.reservedConcurrency]: 'FindGroupChat:900' }, /adds up to 974/],
    [{ [CONTEXT.accountConcurrency]: '1000.5' }, /accountConcurrency must be a whole number/],
    [{ [CONTEXT.accountConcurrency]: 300 }, /can reserve at most 200/],
  ])('%j is refused in one line', (context, message) => {
    let error: unknown;
    try {
      buildApp(newApp({ ...NO_BUNDLING, ...DEV, ...context }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ContextError);
    expect((error as Error).message).toMatch(message);
  });
});
