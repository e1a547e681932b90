/**
 * The pieces of managed membership that need no engine: the functions' reading of MEMBERSHIP, the
 * admin routes' `user_ids`, and the members CLI's id lists, signing decision and signing region.
 */
import { ENV, MAX_USER_IDS_PER_CALL } from '../../lambda/contract';
import { membershipModeFromEnv } from '../../lambda/http/membership-mode';
import { readParams, userIdsParam } from '../../lambda/http/params';
import { adminUrl, isLocal, parseUserIds, signingRegion } from '../../local/members-client';
import { localMembershipMode } from '../../local/environment';

describe('MEMBERSHIP as a function reads it at init', () => {
  it.each([
    [undefined, 'managed'],
    ['', 'managed'],
    ['managed', 'managed'],
    ['self', 'self'],
  ])('%j means %s (unset never lets users in on their own)', (value, mode) => {
    expect(membershipModeFromEnv(value === undefined ? {} : { [ENV.membership]: value })).toBe(mode);
  });

  it('refuses anything else, naming the variable', () => {
    expect(() => membershipModeFromEnv({ [ENV.membership]: 'Self' })).toThrow('environment variable MEMBERSHIP must be managed or self, got "Self"');
  });

  it('local runs default to self, take managed when asked, and refuse nonsense in one line', () => {
    expect(localMembershipMode({})).toBe('self');
    expect(localMembershipMode({ [ENV.membership]: 'managed' })).toBe('managed');
    expect(() => localMembershipMode({ [ENV.membership]: 'open' })).toThrow('MEMBERSHIP must be managed or self, got "open"');
  });
});

describe('user_ids of the admin routes', () => {
  /** A request as API Gateway hands it over (text bodies are not base64-encoded). */
  const request = (headers: Record<string, string>, body: string | undefined, rawQueryString = '') => ({ headers, body, isBase64Encoded: false, rawQueryString });
  const json = async (value: unknown) => userIdsParam(await readParams(request({ 'content-type': 'application/json' }, JSON.stringify({ user_ids: value }))));
  const form = async (value: string) => userIdsParam(await readParams(request({ 'content-type': 'application/x-www-form-urlencoded' }, `user_ids=${encodeURIComponent(value)}`)));
  const query = async (raw: string) => userIdsParam(await readParams(request({}, undefined, raw)));

  it('takes a JSON array of integers or numeric strings, a comma-separated form value or query string', async () => {
    expect(await json([3, '4', 5])).toEqual([3, 4, 5]);
    expect(await json('3, 4,5')).toEqual([3, 4, 5]);
    expect(await form('3,4, 5')).toEqual([3, 4, 5]);
    expect(await query('user_ids=3,4,5')).toEqual([3, 4, 5]);
    expect(await query('user_ids=3%2C4')).toEqual([3, 4]);
  });

  it('takes repeated ids once', async () => expect(await json([7, 7, 8, 7])).toEqual([7, 8]));

  it(`takes ${MAX_USER_IDS_PER_CALL} ids and refuses the ${MAX_USER_IDS_PER_CALL + 1}st, naming user_ids`, async () => {
    const ids = Array.from({ length: MAX_USER_IDS_PER_CALL + 1 }, (_, i) => i + 1);
    expect(await json(ids.slice(0, MAX_USER_IDS_PER_CALL))).toHaveLength(MAX_USER_IDS_PER_CALL);
    await expect(json(ids)).rejects.toThrow(`user_ids must list at most ${MAX_USER_IDS_PER_CALL} user ids per call, got ${MAX_USER_IDS_PER_CALL + 1}`);
    await expect(form(ids.join(','))).rejects.toThrow(/^user_ids must list at most/);
  });

  it.each<[string, () => Promise<number[]>, string]>([
    ['missing', () => query('id=1'), 'user_ids is required'],
    ['an empty array', () => json([]), 'user_ids must list 1 to 100 user ids: a JSON array, or comma-separated'],
    ['an empty string', () => form(''), 'user_ids must list 1 to 100 user ids: a JSON array, or comma-separated'],
    ['a lone number', () => json(5), 'user_ids must list 1 to 100 user ids: a JSON array, or comma-separated'],
    ['zero', () => json([1, 0]), 'user_ids: item 2 is not a user id (an integer of at least 1)'],
    ['a negative id', () => form('1,-2'), 'user_ids: item 2 is not a user id (an integer of at least 1)'],
    ['a fraction', () => json([1.5]), 'user_ids: item 1 is not a user id (an integer of at least 1)'],
    ['a word', () => query('user_ids=1,two'), 'user_ids: item 2 is not a user id (an integer of at least 1)'],
    ['an empty item', () => form('1,,3'), 'user_ids: item 2 is not a user id (an integer of at least 1)'],
    ['an unsafe integer', () => json([2 ** 53]), 'user_ids: item 1 is not a user id (an integer of at least 1)'],
    ['an object inside', () => json([{ id: 1 }]), 'user_ids: item 1 is not a user id (an integer of at least 1)'],
    ['two different lists', () => query('user_ids=1&user_ids=2'), 'user_ids is given more than once with different values'],
  ])('refuses %s with a 400 naming user_ids', async (_, parse, message) => {
    await expect(parse()).rejects.toMatchObject({ code: 400, message });
  });
});

describe('the members CLI', () => {
  it('reads ids one per line, comma-separated or both, skipping blank lines and repeats', () => {
    expect(parseUserIds('1\n2, 3\r\n\n 4 ,5,\n3\n', 'ids.txt')).toEqual([1, 2, 3, 4, 5]);
    expect(parseUserIds('9,8', '--users')).toEqual([9, 8]);
  });

  it('names the line of an id it cannot read, and refuses a list without ids', () => {
    expect(() => parseUserIds('1\n2\nx3\n', 'ids.txt')).toThrow('ids.txt line 3: "x3" is not a user id (an integer of at least 1)');
    expect(() => parseUserIds('1,0', '--users')).toThrow('--users: "0" is not a user id');
    expect(() => parseUserIds(' \n,\n', 'ids.txt')).toThrow('ids.txt: no user ids');
  });

  it('signs everything but plain http to the loopback names npm start answers on', () => {
    expect(['http://127.0.0.1:3000/', 'http://localhost:3000', 'http://[::1]:3000'].map((u) => isLocal(new URL(u)))).toEqual([true, true, true]);
    expect(
      ['https://localhost:3000', 'http://127.0.0.2:3000', 'https://abc.execute-api.eu-west-1.amazonaws.com/', 'http://chat.example.com'].map((u) =>
        isLocal(new URL(u)),
      ),
    ).toEqual([false, false, false, false]);
  });

  it('signs for --region, else the region an execute-api URL names, else AWS_REGION', () => {
    const api = new URL('https://a1b2c3.execute-api.eu-west-1.amazonaws.com/admin/add_members');
    const custom = new URL('https://chat.example.com/admin/add_members');
    expect(signingRegion(api, 'us-east-2', { AWS_REGION: 'ap-south-1' })).toBe('us-east-2');
    expect(signingRegion(api, undefined, { AWS_REGION: 'ap-south-1' })).toBe('eu-west-1');
    expect(signingRegion(new URL('https://x.execute-api.cn-north-1.amazonaws.com.cn/'), undefined, {})).toBe('cn-north-1');
    expect(signingRegion(custom, undefined, { AWS_REGION: 'ap-south-1' })).toBe('ap-south-1');
    expect(signingRegion(custom, undefined, { AWS_DEFAULT_REGION: 'sa-east-1' })).toBe('sa-east-1');
    expect(signingRegion(custom, undefined, {})).toBeUndefined();
  });

  it("finds the admin routes under the API's base URL, with or without its trailing slash or a base path", () => {
    expect(adminUrl('https://a1.execute-api.eu-west-1.amazonaws.com/', 'add').href).toBe('https://a1.execute-api.eu-west-1.amazonaws.com/admin/add_members');
    expect(adminUrl('http://127.0.0.1:3000', 'remove').href).toBe('http://127.0.0.1:3000/admin/remove_members');
    expect(adminUrl('https://api.example.com/chat', 'add').href).toBe('https://api.example.com/chat/admin/add_members');
    expect(() => adminUrl('127.0.0.1:3000', 'add')).toThrow(/--url/);
    expect(() => adminUrl('not a url', 'add')).toThrow('--url: "not a url" is not a URL');
  });
});
