/**
 * A stage's settings, read and checked before any construct exists: the stage's traits
 * (lib/stages.ts), then its entry in stages.json (every stage's settings, committed), then CDK
 * context (`-c key=value`, cdk.json, cdk.context.json), each overriding the one before. Anything
 * wrong stops synthesis with one line (ContextError) before a single function is bundled.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MEMBERSHIP_MODES, type MembershipMode } from '../lambda/contract';
import type { Authorization } from './chat-api';
import { reservableIn, reservationsFor, UNRESERVED_MINIMUM } from './concurrency';
import { DEFAULT_STAGE, RELEASE_STRATEGIES, STAGES, isStageName, type ReleaseStrategy, type StageName, type StageSettings } from './stages';

/** Every setting's key: in stages.json under a stage, or as CDK context. docs/operations.md lists them. */
export const CONTEXT = {
  /** Which stage's stack: `dev` (default), `prod` or `demo` (lib/stages.ts). Context only. */
  stage: 'stage',
  /** Another stage file than the project's stages.json (relative to the project root). Context only. */
  stagesFile: 'stagesFile',
  /** JWT issuer URL; with jwtAudience, puts a JWT authorizer on every user route. */
  jwtIssuer: 'jwtIssuer',
  /** Accepted token audiences: a list, or comma-separated. */
  jwtAudience: 'jwtAudience',
  /** Scopes a token must carry (any one); optional. */
  jwtScopes: 'jwtScopes',
  /** Names of the claims that carry the user's id, type and name (defaults user_id, user_type, name). */
  jwtClaimUserId: 'jwtClaimUserId',
  jwtClaimUserType: 'jwtClaimUserType',
  jwtClaimUserName: 'jwtClaimUserName',
  /** `true`: an open demo stack, with no authorizer, that trusts the x-user-* headers (stage demo). */
  openDemo: 'openDemo',
  /** Browser origins allowed by CORS; none by default (CORS off). */
  corsOrigins: 'corsOrigins',
  /** Override the stage's API throttling (requests per second, burst). */
  throttleRate: 'throttleRate',
  throttleBurst: 'throttleBurst',
  /** The account's Lambda concurrency quota in the stack's region (default: the stage's; AWS's default is 1 000). */
  accountConcurrency: 'accountConcurrency',
  /** Override functions' reserved concurrency: `FindGroupChat:200,SendGroupChat:40`, or an object in stages.json (default: Little's law, lib/concurrency.ts). */
  reservedConcurrency: 'reservedConcurrency',
  /** `managed` or `self`: who decides a chapter's members (default: the stage's; `self` for an open demo). */
  membership: 'membership',
  /** `canary` or `allAtOnce`: how a deploy moves traffic to new code (default: the stage's). */
  release: 'release',
  /** An e-mail address subscribed to the alarm topic; optional. */
  alarmEmail: 'alarmEmail',
  /** A custom domain for the API (with certificateArn): e.g. `chat.example.com`. */
  domainName: 'domainName',
  /** The ACM certificate of domainName, in the stack's region. */
  certificateArn: 'certificateArn',
  /** The Route 53 hosted zone (id and name) to put domainName's alias record in; optional. */
  hostedZoneId: 'hostedZoneId',
  hostedZoneName: 'hostedZoneName',
  /** A local DynamoDB endpoint baked into the functions, for `sam local invoke` only. Context only. */
  dynamodbEndpoint: 'dynamodbEndpoint',
} as const;

type SettingKey = (typeof CONTEXT)[keyof typeof CONTEXT];

/** What a stage's entry in stages.json may set: everything but the choice of stage and file, and the local-only endpoint. */
export const STAGE_FILE_KEYS: readonly SettingKey[] = Object.values(CONTEXT).filter(
  (key) => key !== CONTEXT.stage && key !== CONTEXT.stagesFile && key !== CONTEXT.dynamodbEndpoint,
);

/** The committed file of every stage's settings, at the project root. */
export const DEFAULT_STAGES_FILE = 'stages.json';

export const MISSING_AUTHORIZATION =
  `No authorization configured. Give the JWT issuer and audience (in stages.json, or -c ${CONTEXT.jwtIssuer}=https://… -c ${CONTEXT.jwtAudience}=<client id>), ` +
  `or deploy the open demo stage, which trusts x-user-* headers and must not serve real users (-c ${CONTEXT.stage}=demo).`;

/** A setting is missing or wrong: `cdk synth` prints the message alone (bin/app.ts). */
export class ContextError extends Error {
  override name = 'ContextError';
}

/** A custom domain for the API, and optionally the hosted zone that gets its alias record. */
export interface DomainSettings {
  readonly domainName: string;
  readonly certificateArn: string;
  readonly hostedZone?: { readonly id: string; readonly name: string };
}

/** Everything the stack of one stage is built from, checked. */
export interface DeploymentSettings {
  readonly stage: StageName;
  /** The stage's traits, with the throttles, membership and release that stages.json or context chose. */
  readonly traits: StageSettings;
  readonly authorization: Authorization;
  readonly corsOrigins?: string[];
  readonly alarmEmail?: string;
  readonly domain?: DomainSettings;
  readonly dynamodbEndpoint?: string;
  /** Things to tell whoever synthesizes (e.g. an example value still in stages.json); not errors. */
  readonly warnings: string[];
}

export interface SettingsSources {
  /** A context value (`app.node.tryGetContext`). */
  readonly context: (key: string) => unknown;
  /** The project root: stages.json (or `stagesFile`) is found relative to it. */
  readonly projectRoot: string;
  /**
   * The region the CLI would deploy an environment-agnostic stack to (CDK_DEFAULT_REGION), when
   * known. Only a warning hangs on it: without AWS configuration the CLI says us-east-1 anyway.
   */
  readonly deployRegion?: string;
}

/** Reads and checks the settings of the stage `context` chooses. Throws ContextError, with one line, on anything wrong. */
export function resolveSettings({ context, projectRoot, deployRegion }: SettingsSources): DeploymentSettings {
  const stage = text(context(CONTEXT.stage), CONTEXT.stage) ?? DEFAULT_STAGE;
  if (!isStageName(stage)) throw new ContextError(`unknown stage "${stage}": use one of ${Object.keys(STAGES).join(', ')} (lib/stages.ts)`);
  const fileName = text(context(CONTEXT.stagesFile), CONTEXT.stagesFile) ?? DEFAULT_STAGES_FILE;
  const entry = readStagesFile(path.resolve(projectRoot, fileName), fileName)[stage] ?? {};

  // Context wins over the file; each value remembers where it came from, for the error messages.
  const setting = (key: SettingKey): Setting | undefined => {
    const fromContext = context(key);
    if (!isEmpty(fromContext)) return { value: fromContext, label: key, fromFile: false };
    const fromFile = entry[key];
    if (!isEmpty(fromFile)) return { value: fromFile, label: `${fileName} ${stage}.${key}`, fromFile: true };
    return undefined;
  };
  const read = new Reader(setting);
  const warnings: string[] = [];

  const defaults: StageSettings = STAGES[stage];
  const authorization = authorizationOf(read, stage);
  const traits: StageSettings = {
    ...defaults,
    throttle: {
      rateLimit: read.positiveNumber(CONTEXT.throttleRate) ?? defaults.throttle.rateLimit,
      burstLimit: read.positiveNumber(CONTEXT.throttleBurst) ?? defaults.throttle.burstLimit,
    },
    // An open demo trusts headers anyway: users join on their own there unless asked otherwise.
    membership: read.oneOf<MembershipMode>(CONTEXT.membership, MEMBERSHIP_MODES) ?? ('openDemo' in authorization ? 'self' : defaults.membership),
    release: read.oneOf<ReleaseStrategy>(CONTEXT.release, RELEASE_STRATEGIES) ?? defaults.release,
    accountConcurrency: read.positiveInteger(CONTEXT.accountConcurrency) ?? defaults.accountConcurrency,
  };
  const throttleRate = traits.throttle.rateLimit;
  if (throttleRate === undefined) throw new Error(`stage ${stage} has no throttle rate (lib/stages.ts): it sizes the reserved concurrency`);
  const reservations = reservedConcurrencyOf(read, reservationsFor(throttleRate), traits.accountConcurrency);

  return {
    stage,
    traits: { ...traits, reservedConcurrency: reservations },
    authorization,
    corsOrigins: read.list(CONTEXT.corsOrigins, (origin) => origin === '*' || /^https?:\/\/[^/\s?#]+$/.test(origin), 'origins like https://app.example.com'),
    alarmEmail: read.matching(CONTEXT.alarmEmail, /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address'),
    domain: domainOf(read, deployRegion, warnings),
    dynamodbEndpoint: read.matching(CONTEXT.dynamodbEndpoint, /^https?:\/\/\S+$/, 'an http:// or https:// URL'),
    warnings: [
      ...warnings,
      ...(read.exampleValues.length
        ? [`${[...new Set(read.exampleValues)].join(', ')}: example values; put your own in ${fileName} (or give them with -c) before deploying this stage.`]
        : []),
    ],
  };
}

/**
 * Each function's reserved concurrency: Little's law on the throttle (`derived`), with the stage's
 * `reservedConcurrency` overrides; refused when they would leave less than 100 of the account's
 * quota unreserved (AWS refuses such a deploy, later and with less to go on).
 */
function reservedConcurrencyOf(read: Reader, derived: Record<string, number>, accountConcurrency: number): Record<string, number> {
  const reservations = { ...derived, ...read.functionNumbers(CONTEXT.reservedConcurrency, Object.keys(derived)) };
  const total = Object.values(reservations).reduce((sum, n) => sum + n, 0);
  if (total > reservableIn(accountConcurrency)) {
    const each = Object.entries(reservations).map(([id, n]) => `${id} ${n}`).join(', ');
    throw new ContextError(
      `the functions' reserved concurrency adds up to ${total} (${each}), but an account with a quota of ${accountConcurrency} concurrent executions ` +
        `can reserve at most ${reservableIn(accountConcurrency)} (AWS keeps ${UNRESERVED_MINIMUM} unreserved): raise the account's quota and set ` +
        `${CONTEXT.accountConcurrency}, lower ${CONTEXT.throttleRate}, or set ${CONTEXT.reservedConcurrency} (docs/operations.md, "Reserved concurrency")`,
    );
  }
  return reservations;
}

function authorizationOf(read: Reader, stage: StageName): Authorization {
  const openDemo = read.boolean(CONTEXT.openDemo);
  const issuer = read.matching(CONTEXT.jwtIssuer, /^https:\/\/\S+$/, 'an https:// URL');
  const audience = read.list(CONTEXT.jwtAudience);
  if (openDemo) {
    const jwt = read.labelOf(CONTEXT.jwtIssuer) ?? read.labelOf(CONTEXT.jwtAudience);
    if (jwt) {
      const hint = stage === 'demo' ? '' : ` (the open demo is a stage of its own: -c ${CONTEXT.stage}=demo)`;
      throw new ContextError(`${read.labelOf(CONTEXT.openDemo)} is true and ${jwt} is set: an open demo and a JWT authorizer exclude each other${hint}`);
    }
    return { openDemo: true };
  }
  if (!issuer && !audience) throw new ContextError(MISSING_AUTHORIZATION);
  if (!issuer || !audience) throw new ContextError(`set both ${CONTEXT.jwtIssuer} and ${CONTEXT.jwtAudience} (${read.labelOf(CONTEXT.jwtIssuer) ?? read.labelOf(CONTEXT.jwtAudience)} is set alone)`);
  return {
    jwt: {
      issuer,
      audience,
      scopes: read.list(CONTEXT.jwtScopes),
      claims: {
        userId: read.text(CONTEXT.jwtClaimUserId),
        userType: read.text(CONTEXT.jwtClaimUserType),
        userName: read.text(CONTEXT.jwtClaimUserName),
      },
    },
  };
}

const HOST_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

function domainOf(read: Reader, deployRegion: string | undefined, warnings: string[]): DomainSettings | undefined {
  const domainName = read.matching(CONTEXT.domainName, HOST_NAME, 'a lower-case host name like chat.example.com');
  const certificateArn = read.matching(
    CONTEXT.certificateArn,
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
    'an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)',
  );
  const zoneId = read.matching(CONTEXT.hostedZoneId, /^Z[A-Z0-9]{1,32}$/, 'a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ');
  const zoneName = read.matching(CONTEXT.hostedZoneName, HOST_NAME, 'a lower-case zone name like example.com')?.replace(/\.$/, '');
  if (!domainName && !certificateArn) {
    const zone = read.labelOf(CONTEXT.hostedZoneId) ?? read.labelOf(CONTEXT.hostedZoneName);
    if (zone) throw new ContextError(`${zone} is set without ${CONTEXT.domainName}: the hosted zone only gets the custom domain's record`);
    return undefined;
  }
  if (!domainName || !certificateArn) {
    throw new ContextError(`a custom domain takes both ${CONTEXT.domainName} and ${CONTEXT.certificateArn} (only ${read.labelOf(CONTEXT.domainName) ?? read.labelOf(CONTEXT.certificateArn)} is set)`);
  }
  const certificateRegion = certificateArn.split(':')[3];
  if (deployRegion && certificateRegion !== deployRegion) {
    warnings.push(
      `${read.labelOf(CONTEXT.certificateArn)} is in ${certificateRegion}, but the CLI's region is ${deployRegion}: a regional API's certificate must be ` +
        `in its region, so deploy the stack to ${certificateRegion} (AWS_REGION, --profile) or use a certificate of ${deployRegion}.`,
    );
  }
  if (!zoneId !== !zoneName) {
    throw new ContextError(`the alias record takes both ${CONTEXT.hostedZoneId} and ${CONTEXT.hostedZoneName} (only ${read.labelOf(CONTEXT.hostedZoneId) ?? read.labelOf(CONTEXT.hostedZoneName)} is set)`);
  }
  if (zoneName && domainName !== zoneName && !domainName.endsWith(`.${zoneName}`)) {
    throw new ContextError(`${CONTEXT.domainName} ${domainName} is not in the hosted zone ${zoneName}`);
  }
  return { domainName, certificateArn, hostedZone: zoneId && zoneName ? { id: zoneId, name: zoneName } : undefined };
}

/** stages.json: `{ "<stage>": { "<setting>": value, … }, … }`, only known stages and settings. */
function readStagesFile(file: string, fileName: string): Record<string, Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (error as Error).message;
    throw new ContextError(`${fileName}: ${reason}`);
  }
  if (!isObject(parsed)) throw new ContextError(`${fileName}: expected an object of stages, e.g. {"prod": {"jwtIssuer": "https://…"}}`);
  const known = new Set<string>(STAGE_FILE_KEYS);
  for (const [stage, entry] of Object.entries(parsed)) {
    if (stage.startsWith('$')) continue; // "$comment", "$schema"
    if (!isStageName(stage)) throw new ContextError(`${fileName}: unknown stage "${stage}"; the stages are ${Object.keys(STAGES).join(', ')} (lib/stages.ts)`);
    if (!isObject(entry)) throw new ContextError(`${fileName}: ${stage} must be an object of settings`);
    for (const key of Object.keys(entry)) {
      if (!known.has(key) && !key.startsWith('$')) {
        throw new ContextError(`${fileName}: ${stage}.${key} is not a setting; the settings are ${STAGE_FILE_KEYS.join(', ')}`);
      }
    }
  }
  return parsed as Record<string, Record<string, unknown>>;
}

interface Setting {
  readonly value: unknown;
  /** Where it came from: `jwtIssuer` (context) or `stages.json prod.jwtIssuer`. */
  readonly label: string;
  readonly fromFile: boolean;
}

/** Typed, checked reads of the settings; every failure is a ContextError that names the setting and its source. */
class Reader {
  /** The labels of file values that look like the committed examples. */
  readonly exampleValues: string[] = [];

  constructor(private readonly setting: (key: SettingKey) => Setting | undefined) {}

  labelOf(key: SettingKey): string | undefined {
    return this.setting(key)?.label;
  }

  text(key: SettingKey): string | undefined {
    const found = this.setting(key);
    if (!found) return undefined;
    const value = text(found.value, found.label);
    if (found.fromFile && value && /example/i.test(value)) this.exampleValues.push(found.label);
    return value;
  }

  matching(key: SettingKey, pattern: RegExp, what: string): string | undefined {
    const value = this.text(key);
    if (value !== undefined && !pattern.test(value)) throw new ContextError(`${this.labelOf(key)} must be ${what}, got "${value}"`);
    return value;
  }

  oneOf<T extends string>(key: SettingKey, allowed: readonly T[]): T | undefined {
    const value = this.text(key);
    if (value !== undefined && !(allowed as readonly string[]).includes(value)) {
      throw new ContextError(`${this.labelOf(key)} must be ${allowed.join(' or ')}, got "${value}"`);
    }
    return value as T | undefined;
  }

  list(key: SettingKey, valid: (item: string) => boolean = () => true, what = ''): string[] | undefined {
    const found = this.setting(key);
    if (!found) return undefined;
    const items = Array.isArray(found.value)
      ? found.value.map((item) => text(item, found.label) ?? '')
      : (text(found.value, found.label) ?? '').split(',');
    const list = items.map((item) => item.trim()).filter(Boolean);
    const bad = list.find((item) => !valid(item));
    if (bad !== undefined) throw new ContextError(`${found.label} must list ${what}, got "${bad}"`);
    if (found.fromFile && list.some((item) => /example/i.test(item))) this.exampleValues.push(found.label);
    return list.length ? list : undefined;
  }

  boolean(key: SettingKey): boolean | undefined {
    const found = this.setting(key);
    if (!found) return undefined;
    if (found.value === true || found.value === 'true') return true;
    if (found.value === false || found.value === 'false') return false;
    throw new ContextError(`${found.label} must be true or false, got ${JSON.stringify(found.value)}`);
  }

  positiveInteger(key: SettingKey): number | undefined {
    const n = this.positiveNumber(key);
    if (n !== undefined && !Number.isInteger(n)) throw new ContextError(`${this.labelOf(key)} must be a whole number, got ${n}`);
    return n;
  }

  /**
   * Whole numbers ≥ 1 by function id, for some of `ids`: an object (stages.json), or `Id:n` pairs,
   * comma-separated. An unknown id is refused with the known ones.
   */
  functionNumbers(key: SettingKey, ids: readonly string[]): Record<string, number> {
    const found = this.setting(key);
    if (!found) return {};
    const pairs = isObject(found.value)
      ? Object.entries(found.value)
      : (text(found.value, found.label) ?? '').split(',').filter((pair) => pair.trim()).map((pair) => pair.split(':').map((part) => part.trim()));
    const numbers: Record<string, number> = {};
    for (const [id, value] of pairs) {
      if (!ids.includes(id)) throw new ContextError(`${found.label}: no function "${id}"; the functions are ${ids.join(', ')}`);
      const n = typeof value === 'number' ? value : Number(value);
      if (!Number.isInteger(n) || n < 1) throw new ContextError(`${found.label}: ${id} must be a whole number ≥ 1, got ${JSON.stringify(value)}`);
      numbers[id] = n;
    }
    return numbers;
  }

  positiveNumber(key: SettingKey): number | undefined {
    const found = this.setting(key);
    if (!found) return undefined;
    const n = typeof found.value === 'number' ? found.value : Number(text(found.value, found.label));
    if (!Number.isFinite(n) || n <= 0) throw new ContextError(`${found.label} must be a positive number, got ${JSON.stringify(found.value)}`);
    return n;
  }
}

/** A scalar setting as text (numbers and booleans as written); '' is no value. */
function text(value: unknown, label: string): string | undefined {
  if (isEmpty(value)) return undefined;
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ContextError(`${label} must be a single value, got ${JSON.stringify(value)}`);
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
