/**
 * The demo chat page `npm start` serves at `/`, in a real browser: Debian's chromium, headless,
 * driven by playwright-core. Two users, each in a page of their own, join one chapter and chat:
 * each sees every message of the conversation once, in id order, and the other's messages by the
 * channel the page says it uses (push when the push endpoint is up; polls when it is down). A
 * dropped socket is resumed without a loss or a duplicate; a member removed is told so and refused
 * push until added again; a join refused by managed membership is explained on the page.
 *
 * DEMO_SCREENSHOT=docs/demo.png writes the README's screenshot (the two pages side by side) there.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type WebSocketRoute } from 'playwright-core';
import { ENV, type Identity } from '../../lambda/contract';
import { loadHandlers, type RouteHandlers } from '../../local/handlers';
import { startLocalPush, type LocalPush } from '../../local/push';
import { createLocalServer } from '../../local/server';
import { configureHandlers } from '../support/chat-client';
import { startTestTable, type TestTable } from '../support/dynamodb';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Waits for something the page shows: long enough for a few 5 s polls on a busy machine. */
const SHOWN_WITHIN_MS = 30_000;

const ada: Identity = { user_id: 701, user_type: 2, user_name: 'Ada (teacher)' };
const bo: Identity = { user_id: 702, user_type: 3, user_name: 'Bo (student)' };
const conversation: Array<[Identity, string]> = [
  [ada, 'Hi Bo, did chapter 3 make sense?'],
  [bo, 'Mostly. The part on exact polling took me a second read.'],
  [ada, 'Each client keeps the last id it holds and asks for what comes after it.'],
  [bo, 'So nothing is shown twice, and nothing is skipped. Thanks!'],
];

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** Opens the page as `user`, fills the form as a person would and joins `chapter`; `before` runs before the page loads. */
async function joinAs(context: BrowserContext, url: string, user: Identity, chapter: number, before?: (page: Page) => Promise<void>): Promise<Page> {
  const page = await context.newPage();
  await before?.(page);
  await page.goto(url);
  await page.fill('input[name=user_id]', String(user.user_id));
  await page.fill('input[name=user_type]', String(user.user_type));
  await page.fill('input[name=user_name]', user.user_name);
  await page.fill('input[name=chapter]', String(chapter));
  await page.click('#join');
  await page.locator('#chat').waitFor({ state: 'visible', timeout: SHOWN_WITHIN_MS });
  return page;
}

interface ShownMessage {
  id: number;
  user_id: number;
  body: string;
  via: string;
}

function shownMessages(page: Page): Promise<ShownMessage[]> {
  return page.$$eval('#messages li', (items) =>
    items.map((li) => ({
      id: Number(li.getAttribute('data-id')),
      user_id: Number(li.getAttribute('data-user-id')),
      body: li.querySelector('.body')?.textContent ?? '',
      via: li.getAttribute('data-via') ?? '',
    })),
  );
}

/** Resolves once `page` shows a message with this body. */
async function waitForMessage(page: Page, body: string): Promise<void> {
  await page.locator('#messages li .body', { hasText: body }).first().waitFor({ timeout: SHOWN_WITHIN_MS });
}

/** Resolves once the page's channel badge says `channel` and no catch-up poll is running. */
async function waitForChannel(page: Page, channel: string): Promise<void> {
  await page.locator(`#channel[data-channel="${channel}"]`).waitFor({ timeout: SHOWN_WITHIN_MS });
  await page.locator('#chat[data-sync="idle"]').waitFor({ timeout: SHOWN_WITHIN_MS });
}

/** The conversation, each line typed once the previous one reached both pages. */
async function chat(pages: Map<number, Page>): Promise<void> {
  for (const [user, text] of conversation) {
    const page = pages.get(user.user_id)!;
    await page.fill('#body', text);
    await page.press('#body', 'Enter');
    for (const each of pages.values()) await waitForMessage(each, text);
  }
}

/** Both pages show the conversation exactly: once each, in order, with dense ids. */
async function expectWholeConversation(pages: Page[]): Promise<ShownMessage[][]> {
  const shown = await Promise.all(pages.map(shownMessages));
  for (const messages of shown) {
    expect(messages.map((m) => [m.user_id, m.body])).toEqual(conversation.map(([user, text]) => [user.user_id, text]));
    const first = messages[0].id;
    expect(messages.map((m) => m.id)).toEqual(conversation.map((_, i) => first + i));
  }
  return shown;
}

/** A page as a user sees it on a small laptop screen, every run alike (size, time zone, language). */
const newUserContext = (browser: Browser) => browser.newContext({ viewport: { width: 640, height: 780 }, deviceScaleFactor: 1, timezoneId: 'UTC', locale: 'en-GB' });

/**
 * The two pages side by side, each captioned with its user: the README's docs/demo.png when
 * DEMO_SCREENSHOT names it (otherwise made and dropped, so that this code keeps working).
 */
async function screenshot(browser: Browser, pages: Array<[Identity, Page]>): Promise<void> {
  const shots = await Promise.all(pages.map(async ([user, page]) => ({ caption: `${user.user_name}, user ${user.user_id}`, png: await page.screenshot() })));
  const page = await browser.newPage({ viewport: { width: 1340, height: 800 }, deviceScaleFactor: 1 });
  const figures = shots
    .map(({ caption, png }) => `<figure><figcaption>${caption}</figcaption><img src="data:image/png;base64,${png.toString('base64')}"></figure>`)
    .join('');
  await page.setContent(
    `<style>body{margin:0;display:flex;gap:16px;padding:16px;background:#d9dce3;font:14px "DejaVu Sans",sans-serif}
     figure{margin:0}figcaption{margin:0 0 6px;color:#333}img{display:block;border:1px solid #b9bec9;border-radius:6px}</style>${figures}`,
  );
  const png = await page.screenshot({ fullPage: true });
  await page.close();
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  const file = process.env.DEMO_SCREENSHOT;
  if (file) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, png);
  }
}

let table: TestTable;
let handlers: RouteHandlers;
let browser: Browser;
/** Each test's browser contexts (one per user), closed after it. */
const contexts: BrowserContext[] = [];
const newUser = async () => {
  const context = await newUserContext(browser);
  contexts.push(context);
  return context;
};
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

/** Calls a route of the local server as the course platform or a user would. */
async function post(url: string, route: string, form: string): Promise<unknown> {
  const response = await fetch(`${url}/${route}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  return response.json();
}

beforeAll(async () => {
  table = await startTestTable('demo');
  configureHandlers(table);
  handlers = await loadHandlers();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }).catch((error: Error) => {
    throw new Error(`cannot start ${CHROMIUM} (Debian: apt-get install chromium; .ci/run installs it): ${error.message}`);
  });
});

afterAll(async () => {
  await browser?.close();
  await table?.close();
});

describe('the demo page, push up', () => {
  let url: string;
  let server: Server;
  let push: LocalPush;

  beforeAll(async () => {
    // As npm start serves it: the API, the page and the push endpoint fed by the table's stream.
    server = createLocalServer(handlers);
    push = await startLocalPush(server, table);
    url = await listen(server);
  });

  afterAll(async () => {
    await push.close();
    await close(server);
  });

  it('says it is live on push, and each user gets the other\'s messages by push, once each and in order', async () => {
    const chapter = 81;
    const [adaPage, boPage] = [await joinAs(await newUser(), url, ada, chapter), await joinAs(await newUser(), url, bo, chapter)];
    for (const page of [adaPage, boPage]) {
      await waitForChannel(page, 'push');
      expect(await page.textContent('#channel')).toBe('Live · push');
    }

    await chat(new Map([[ada.user_id, adaPage], [bo.user_id, boPage]]));

    const [seenByAda, seenByBo] = await expectWholeConversation([adaPage, boPage]);
    // Once connected and caught up, the page polls no more: what the other one wrote came by push.
    expect(seenByAda.filter((m) => m.user_id === bo.user_id).map((m) => m.via)).toEqual(['push', 'push']);
    expect(seenByBo.filter((m) => m.user_id === ada.user_id).map((m) => m.via)).toEqual(['push', 'push']);
    expect(await boPage.textContent('#members')).toBe('2 members');
    await screenshot(browser, [[ada, adaPage], [bo, boPage]]);
  }, 120_000);

  it('a dropped socket: the page polls, reconnects and catches up, and still shows every message once, in order', async () => {
    const chapter = 83;
    /** Bo's push socket, passed through to the server, so that the test can drop it. */
    let boSocket: WebSocketRoute | undefined;
    const adaPage = await joinAs(await newUser(), url, ada, chapter);
    const boPage = await joinAs(await newUser(), url, bo, chapter, (page) =>
      page.routeWebSocket(/\/push\?/, (socket) => {
        socket.connectToServer();
        boSocket = socket;
      }),
    );
    for (const page of [adaPage, boPage]) await waitForChannel(page, 'push');
    const firstSocket = boSocket!;

    await firstSocket.close({ code: 1001, reason: 'network gone' });
    const lines = ['Sent while Bo was away (1)', 'Sent while Bo was away (2)', 'Sent while Bo was away (3)'];
    for (const line of lines) {
      await adaPage.fill('#body', line);
      await adaPage.press('#body', 'Enter');
      await waitForMessage(adaPage, line);
    }
    for (const line of lines) await waitForMessage(boPage, line);
    // Back on push on a new socket; then a message comes by it.
    await waitForChannel(boPage, 'push');
    expect(boSocket).not.toBe(firstSocket);
    await adaPage.fill('#body', 'Welcome back');
    await adaPage.press('#body', 'Enter');
    await waitForMessage(boPage, 'Welcome back');

    const shown = await shownMessages(boPage);
    expect(shown.map((m) => m.body)).toEqual([...lines, 'Welcome back']);
    expect(shown.map((m) => m.id)).toEqual([1, 2, 3, 4].map((i) => shown[0].id + i - 1));
    expect(shown.at(-1)!.via).toBe('push');
    expect((await shownMessages(adaPage)).map((m) => m.id)).toEqual(shown.map((m) => m.id));
  }, 120_000);

  it('a missed push (a gap in the ids): the page fetches what it missed by an exact poll, and shows each message once, in order', async () => {
    const chapter = 84;
    /** Bo's socket passes every frame through but the first message pushed: as if it were lost on the way. */
    let dropNextMessage = false;
    const adaPage = await joinAs(await newUser(), url, ada, chapter);
    const boPage = await joinAs(await newUser(), url, bo, chapter, (page) =>
      page.routeWebSocket(/\/push\?/, (socket) => {
        socket.connectToServer().onMessage((frame) => {
          if (dropNextMessage && typeof frame === 'string' && (JSON.parse(frame) as { type: string }).type === 'message') dropNextMessage = false;
          else socket.send(frame);
        });
      }),
    );
    for (const page of [adaPage, boPage]) await waitForChannel(page, 'push');

    dropNextMessage = true;
    const lines = ['This push is lost on the way', 'This one arrives, one id too far', 'And this one comes next'];
    const send = async (line: string) => {
      await adaPage.fill('#body', line);
      await adaPage.press('#body', 'Enter');
      await waitForMessage(adaPage, line);
    };
    // Nothing polls while push is up: the lost message shows only once the next push reveals the gap.
    await send(lines[0]);
    await send(lines[1]);
    for (const line of lines.slice(0, 2)) await waitForMessage(boPage, line);
    await waitForChannel(boPage, 'push');
    await send(lines[2]);
    await waitForMessage(boPage, lines[2]);

    const shown = await shownMessages(boPage);
    expect(dropNextMessage).toBe(false);
    expect(shown.map((m) => m.body)).toEqual(lines);
    expect(shown.map((m) => m.id)).toEqual([0, 1, 2].map((i) => shown[0].id + i));
    // The second push showed the gap; the poll it set off brought the first two; the third came by push.
    expect(shown.map((m) => m.via)).toEqual(['poll', 'poll', 'push']);
  }, 120_000);

  it('a member removed is told so, is refused push while not a member, and is back on push once added again', async () => {
    const chapter = 82;
    const adaPage = await joinAs(await newUser(), url, ada, chapter);
    await waitForChannel(adaPage, 'push');

    expect(await post(url, 'admin/remove_members', `id=${chapter}&user_ids=${ada.user_id}`)).toEqual({ code: 200, msg: 'ok', data: { member_count: 0 } });
    // The `unsubscribed` frame closes the socket; the reconnect is refused (a 403 handshake).
    const channel = adaPage.locator('#channel');
    await channel.filter({ hasText: `Polling every 5 s · push refused: not a member of chapter ${chapter}` }).waitFor({ timeout: SHOWN_WITHIN_MS });
    expect(await channel.getAttribute('data-channel')).toBe('refused');

    expect(await post(url, 'admin/add_members', `id=${chapter}&user_ids=${ada.user_id}`)).toEqual({ code: 200, msg: 'ok', data: { member_count: 1 } });
    await waitForChannel(adaPage, 'push');
    expect(await channel.textContent()).toBe('Live · push');
  }, 120_000);
});

describe('the demo page, push down', () => {
  let url: string;
  let server: Server;

  beforeAll(async () => {
    // The API and the page as npm start serves them, without the push endpoint: every WebSocket
    // handshake fails, as when push is not running.
    server = createLocalServer(handlers);
    url = await listen(server);
  });

  afterAll(() => close(server));

  it('says it polls, and two users still get each other\'s messages by polls, once each and in order', async () => {
    const chapter = 71;
    const [adaPage, boPage] = [await joinAs(await newUser(), url, ada, chapter), await joinAs(await newUser(), url, bo, chapter)];
    for (const page of [adaPage, boPage]) {
      await waitForChannel(page, 'polling');
      expect(await page.textContent('#channel')).toBe('Polling every 5 s · push unavailable');
    }

    await chat(new Map([[ada.user_id, adaPage], [bo.user_id, boPage]]));

    const [seenByAda, seenByBo] = await expectWholeConversation([adaPage, boPage]);
    // What the other one wrote came by a poll (one's own may come by the send's answer or a poll).
    expect(seenByAda.filter((m) => m.user_id === bo.user_id).map((m) => m.via)).toEqual(['poll', 'poll']);
    expect(seenByBo.filter((m) => m.user_id === ada.user_id).map((m) => m.via)).toEqual(['poll', 'poll']);
  }, 180_000);
});

describe('the demo page, membership managed by the course platform', () => {
  let url: string;
  let server: Server;

  beforeAll(async () => {
    // The functions read MEMBERSHIP once at init: fresh copies, as `MEMBERSHIP=managed npm start` runs them.
    process.env[ENV.membership] = 'managed';
    let managed: RouteHandlers | undefined;
    await jest.isolateModulesAsync(async () => {
      managed = await loadHandlers();
    });
    process.env[ENV.membership] = 'self';
    server = createLocalServer(managed!);
    url = await listen(server);
  });

  afterAll(() => close(server));

  it('says why a join is refused and how to start the server so that users can join', async () => {
    const page = await joinAs(await newUser(), url, ada, 72);
    const notice = page.locator('#notice');
    await notice.waitFor({ state: 'visible', timeout: SHOWN_WITHIN_MS });
    expect(await notice.getAttribute('data-kind')).toBe('warning');
    const text = await notice.textContent();
    expect(text).toMatch(/^Join refused \(403\): membership is managed by the course platform/);
    expect(text).toContain('MEMBERSHIP=managed');
    expect(text).toContain('plain `npm start` (membership self)');
    expect(text).toContain(`npm run members -- add --chapter 72 --users ${ada.user_id}`);

    // Read-only: a send answers 403, and the page says so.
    await page.fill('#body', 'Can I write here?');
    await page.press('#body', 'Enter');
    await page.locator('#notice[data-kind="error"]').waitFor({ timeout: SHOWN_WITHIN_MS });
    expect(await notice.textContent()).toMatch(/^Not sent \(403\): .* only members send: join chapter 72 first\.$/);
    expect(await shownMessages(page)).toEqual([]);
  });
});

