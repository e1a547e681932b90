// @ts-check
/**
 * The demo page's client (a plain ES module, served as is): pick a user and a chapter, join, send,
 * and see new messages as they come.
 *
 * Delivery follows the push endpoint's resume rule. The page holds `lastId`, the newest message id
 * it shows (ids are dense per chapter). On each (re)connect of the socket it catches up with exact
 * polls (`find_group_chat` with `last_id`) until `has_more` is false. A pushed message with an id
 * ≤ lastId is a duplicate and dropped; lastId + 1 is shown; anything higher means some were missed,
 * and an exact poll fetches them (that message included). While the socket is down the page polls
 * every 5 s and reconnects with exponential backoff. So every message shows exactly once, in order,
 * whichever way it came; each one says which way (`data-via`: push, poll or send — one's own send's answer).
 */

const POLL_INTERVAL_MS = 5_000;
/** The push API closes a connection idle for 10 minutes; clients ping every 9 (PUSH_PING_INTERVAL_SECONDS, lambda/contract/push.ts). */
const PING_INTERVAL_MS = 9 * 60_000;
/** A socket that has not answered a ping within this is treated as gone. */
const PONG_TIMEOUT_MS = 30_000;
const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;
/** A socket that stayed open this long resets the reconnect backoff (one that is closed at once does not). */
const STABLE_SOCKET_MS = 10_000;
const PAGE_SIZE = 100;
/** A send that fails for the network or a 503 is retried with the same client_msg_id (stored once). */
const SEND_ATTEMPTS = 3;

/**
 * @typedef {{ user_id: number, user_type: number, user_name: string }} Identity
 * @typedef {Identity & { id: number, msg_body: string, create_time: number }} Message
 * @typedef {{ code: number, msg: string, data: any }} Envelope
 * @typedef {'push' | 'poll' | 'send'} Via
 * @typedef {'off' | 'connecting' | 'push' | 'polling' | 'refused'} Channel
 */

/** @param {string} id */
function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
}

const view = {
  session: /** @type {HTMLFormElement} */ (element('session')),
  who: /** @type {HTMLFieldSetElement} */ (element('who')),
  join: /** @type {HTMLButtonElement} */ (element('join')),
  leave: /** @type {HTMLButtonElement} */ (element('leave')),
  notice: element('notice'),
  channel: element('channel'),
  chat: element('chat'),
  title: element('chat-title'),
  members: element('members'),
  messages: element('messages'),
  composer: /** @type {HTMLFormElement} */ (element('composer')),
  body: /** @type {HTMLInputElement} */ (element('body')),
};

/** @param {string} text @param {'info' | 'warning' | 'error'} [kind] */
function showNotice(text, kind = 'info') {
  view.notice.textContent = text;
  view.notice.dataset.kind = kind;
  view.notice.hidden = false;
}

function clearNotice() {
  view.notice.hidden = true;
  view.notice.textContent = '';
}

/** @param {Channel} channel @param {string} text @param {string} [detail] shown on hover */
function showChannel(channel, text, detail = '') {
  view.channel.dataset.channel = channel;
  view.channel.textContent = text;
  view.channel.title = detail;
}

/** The time of a message, with its date when it is not today's. @param {number} seconds */
function clock(seconds) {
  const time = new Date(seconds * 1000);
  const today = time.toDateString() === new Date().toDateString();
  return time.toLocaleString([], { ...(!today && { year: 'numeric', month: 'short', day: 'numeric' }), hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

const VIA_LABEL = { push: 'push', poll: 'poll', send: 'sent' };

/** @param {Message} message @param {Via} via @param {boolean} own */
function appendMessage(message, via, own) {
  const list = view.messages;
  const stuck = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const item = document.createElement('li');
  item.className = own ? 'message own' : 'message';
  item.dataset.id = String(message.id);
  item.dataset.via = via;
  item.dataset.userId = String(message.user_id);
  const meta = document.createElement('div');
  meta.className = 'meta';
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = message.user_name;
  const type = document.createElement('span');
  type.className = 'tag';
  type.textContent = `type ${message.user_type}`;
  const time = document.createElement('time');
  time.dateTime = new Date(message.create_time * 1000).toISOString();
  time.textContent = clock(message.create_time);
  const how = document.createElement('span');
  how.className = `via via-${via}`;
  how.textContent = `#${message.id} · ${VIA_LABEL[via]}`;
  meta.append(name, type, time, how);
  const body = document.createElement('div');
  body.className = 'body';
  body.textContent = message.msg_body;
  item.append(meta, body);
  list.append(item);
  if (stuck) list.scrollTop = list.scrollHeight;
}

/** Network failures and 503s are worth retrying; other answers are final. */
class CallFailed extends Error {
  /** @param {string} message @param {boolean} retryable */
  constructor(message, retryable) {
    super(message);
    this.retryable = retryable;
  }
}

/**
 * POSTs a form to a route as `user`; resolves to the envelope, whatever its code.
 * @param {Identity} user @param {string} route @param {Record<string, string | number>} params
 * @returns {Promise<Envelope>}
 */
async function call(user, route, params) {
  const body = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)]));
  let response;
  try {
    response = await fetch(`/message/${route}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-user-id': String(user.user_id),
        'x-user-type': String(user.user_type),
        // Header values are Latin-1: the API reads names percent-encoded (UTF-8).
        'x-user-name': encodeURIComponent(user.user_name),
      },
      body,
    });
  } catch {
    throw new CallFailed('the server does not answer', true);
  }
  try {
    return /** @type {Envelope} */ (await response.json());
  } catch {
    throw new CallFailed(`the server answered ${response.status} without an envelope`, response.status >= 500);
  }
}

/** A UUID for client_msg_id; crypto.randomUUID needs a secure context, which http://127.0.0.1 is. */
function newClientMessageId() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One user in one chapter, from joining to leaving: the socket, the polls and the messages shown. */
class ChatSession {
  /** @param {Identity} user @param {number} chapter @param {boolean} member whether the join made the user a member */
  constructor(user, chapter, member) {
    this.user = user;
    this.chapter = chapter;
    /**
     * What the page knows of the user's membership: a join, a send, an open socket say yes; a refused
     * join (managed membership), a refused send, an `unsubscribed` frame say no. A browser does not
     * see the status of a failed WebSocket handshake (a 403 and an endpoint that is down look alike),
     * so a failed connect of a user known not to be a member is shown as refused, any other as push down.
     */
    this.member = member;
    /** The newest message id shown; every id up to it is shown. */
    this.lastId = 0;
    /** @type {WebSocket | null} */
    this.socket = null;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.pollTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.reconnectTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.pingTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.pongTimer = undefined;
    this.backoffMs = RECONNECT_MIN_MS;
    /** @type {Promise<void> | null} */
    this.catchingUp = null;
    this.catchUpAgain = false;
    this.stopped = false;
    /** The last poll failed and said so in the notice (cleared by the next one that works). */
    this.pollFailed = false;
  }

  start() {
    view.title.textContent = `Chapter ${this.chapter}`;
    view.members.textContent = '';
    view.messages.replaceChildren();
    this.fallBackToPolling('connecting');
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.reconnectTimer);
    this.stopPing();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'left');
    showChannel('off', 'Not connected');
  }

  pushUrl() {
    const url = new URL('/push', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.search = new URLSearchParams({
      chapters: String(this.chapter),
      user_id: String(this.user.user_id),
      user_type: String(this.user.user_type),
      user_name: this.user.user_name,
    }).toString();
    return url.href;
  }

  connect() {
    this.reconnectTimer = undefined;
    if (this.stopped) return;
    let socket;
    try {
      socket = new WebSocket(this.pushUrl());
    } catch {
      this.fallBackToPolling('unavailable');
      return;
    }
    this.socket = socket;
    let openedAt = 0;
    socket.addEventListener('open', () => {
      if (this.socket !== socket) return;
      openedAt = Date.now();
      this.member = true; // only members are let in
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
      showChannel('push', 'Live · push');
      this.startPing();
      // Connected first, then caught up: whatever was sent meanwhile comes by the poll or the socket.
      void this.catchUp();
    });
    socket.addEventListener('message', (event) => {
      if (this.socket !== socket) return;
      let frame;
      try {
        frame = JSON.parse(String(event.data));
      } catch {
        return;
      }
      this.onFrame(frame);
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopPing();
      if (this.stopped) return;
      if (openedAt && Date.now() - openedAt >= STABLE_SOCKET_MS) this.backoffMs = RECONNECT_MIN_MS;
      if (openedAt) this.fallBackToPolling(this.member ? 'dropped' : 'unsubscribed');
      else this.fallBackToPolling(this.member ? 'unavailable' : 'refused');
    });
  }

  /**
   * Polls every 5 s (and now) until the socket is back; says why in the channel badge.
   * @param {'connecting' | 'unavailable' | 'dropped' | 'refused' | 'unsubscribed'} why
   */
  fallBackToPolling(why) {
    if (this.stopped) return;
    this.pollTimer ??= setInterval(() => void this.catchUp(), POLL_INTERVAL_MS);
    void this.catchUp();
    if (why === 'connecting') return showChannel('connecting', 'Connecting to push…');
    const retry = `Trying push again in ${Math.round(this.scheduleReconnect() / 1000)} s.`;
    if (why === 'unsubscribed') {
      showChannel('refused', `Polling every 5 s · no longer a member of chapter ${this.chapter}`, `Push stopped: user ${this.user.user_id} left the chapter or was removed. ${retry}`);
    } else if (why === 'refused') {
      showChannel('refused', `Polling every 5 s · push refused: not a member of chapter ${this.chapter}`, `Only members receive pushes. ${retry}`);
    } else {
      showChannel('polling', `Polling every 5 s · push ${why}`, retry);
    }
  }

  /** @returns {number} the delay until the next attempt */
  scheduleReconnect() {
    clearTimeout(this.reconnectTimer);
    // Exponential backoff with jitter, so that many pages do not reconnect in step after a restart.
    const delay = this.backoffMs / 2 + Math.random() * (this.backoffMs / 2);
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    return delay;
  }

  startPing() {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      const socket = this.socket;
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      socket.send(JSON.stringify({ action: 'ping' }));
      clearTimeout(this.pongTimer);
      // No pong: the connection is dead without a close (a sleeping laptop, a dropped network).
      this.pongTimer = setTimeout(() => socket.close(4000, 'no pong'), PONG_TIMEOUT_MS);
    }, PING_INTERVAL_MS);
  }

  stopPing() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  /** @param {any} frame */
  onFrame(frame) {
    if (frame?.type === 'pong') {
      clearTimeout(this.pongTimer);
      return;
    }
    if (frame?.chapter_id !== this.chapter) return;
    if (frame.type === 'message') {
      const message = /** @type {Message} */ (frame.message);
      if (!message || !Number.isInteger(message.id) || message.id <= this.lastId) return; // already shown
      if (message.id === this.lastId + 1) this.show(message, 'push');
      else void this.catchUp(); // a gap: fetch what was missed, this message included
    } else if (frame.type === 'unsubscribed') {
      this.member = false;
      this.socket?.close(1000, 'unsubscribed');
    }
  }

  /** @param {Message} message @param {Via} via */
  show(message, via) {
    if (message.id <= this.lastId) return;
    this.lastId = message.id;
    appendMessage(message, via, message.user_id === this.user.user_id);
  }

  /**
   * Exact polls from lastId until has_more is false. One at a time: a call while one runs makes it
   * go round once more (a gap seen meanwhile may be past what it already asked for).
   * @returns {Promise<void>}
   */
  catchUp() {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return this.catchingUp;
    }
    view.chat.dataset.sync = 'catching-up';
    this.catchingUp = (async () => {
      try {
        do {
          this.catchUpAgain = false;
          let more = true;
          while (more && !this.stopped) {
            const answer = await call(this.user, 'find_group_chat', { id: this.chapter, last_id: this.lastId, limit: PAGE_SIZE });
            if (this.stopped) return;
            if (answer.code !== 200) throw new CallFailed(`find_group_chat answered ${answer.code}: ${answer.msg}`, answer.code >= 500);
            for (const message of answer.data.list) this.show(message, 'poll');
            view.members.textContent = `${answer.data.member_count} member${answer.data.member_count === 1 ? '' : 's'}`;
            more = answer.data.has_more;
          }
        } while (this.catchUpAgain && !this.stopped);
        if (this.pollFailed) clearNotice();
        this.pollFailed = false;
      } catch (error) {
        // The next poll (or reconnect) tries again.
        if (!this.stopped) {
          this.pollFailed = true;
          showNotice(`Could not fetch messages: ${error instanceof Error ? error.message : error}`, 'warning');
        }
      } finally {
        this.catchingUp = null;
        // `idle`: nothing is being fetched; what comes next comes by the socket or the next poll.
        if (!this.stopped) view.chat.dataset.sync = 'idle';
      }
    })();
    return this.catchingUp;
  }

  /** @param {string} text */
  async send(text) {
    const params = { id: this.chapter, msg_body: text, client_msg_id: newClientMessageId() };
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await call(this.user, 'send_group_chat', params);
        if (answer.code === 200) {
          this.member = true;
          const message = /** @type {Message} */ (answer.data);
          if (message.id === this.lastId + 1) this.show(message, 'send');
          else if (message.id > this.lastId) void this.catchUp();
          return true;
        }
        if (answer.code === 403) this.member = false;
        if (answer.code < 500 || attempt >= SEND_ATTEMPTS) {
          const hint = answer.code === 403 ? ` — only members send: join chapter ${this.chapter} first.` : '';
          showNotice(`Not sent (${answer.code}): ${answer.msg}${hint}`, 'error');
          return false;
        }
      } catch (error) {
        if (!(error instanceof CallFailed && error.retryable) || attempt >= SEND_ATTEMPTS) {
          showNotice(`Not sent: ${error instanceof Error ? error.message : error}`, 'error');
          return false;
        }
      }
      await sleep(500 * attempt);
    }
  }
}

/** @type {ChatSession | null} */
let session = null;

/** @returns {{ user: Identity, chapter: number }} */
function readSessionForm() {
  const data = new FormData(view.session);
  return {
    user: {
      user_id: Number(data.get('user_id')),
      user_type: Number(data.get('user_type')),
      user_name: String(data.get('user_name')).trim(),
    },
    chapter: Number(data.get('chapter')),
  };
}

/** @param {boolean} inChat */
function showInChat(inChat) {
  view.who.disabled = inChat;
  view.join.hidden = inChat;
  view.leave.hidden = !inChat;
  view.chat.hidden = !inChat;
}

view.session.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (session) return;
  const { user, chapter } = readSessionForm();
  clearNotice();
  view.join.disabled = true;
  try {
    const answer = await call(user, 'join_group_chat', { id: chapter });
    const member = answer.code === 200;
    if (answer.code === 403) {
      // Membership managed by the course platform (MEMBERSHIP=managed): the page can still read and,
      // if the platform made this user a member, send.
      showNotice(
        `Join refused (403): ${answer.msg}. This server runs with MEMBERSHIP=managed. To join from this page, start it with plain ` +
          `\`npm start\` (membership self); or make user ${user.user_id} a member: ` +
          `npm run members -- add --chapter ${chapter} --users ${user.user_id}. Showing the chapter read-only until then.`,
        'warning',
      );
    } else if (answer.code !== 200) {
      showNotice(`Join failed (${answer.code}): ${answer.msg}`, 'error');
      return;
    }
    session = new ChatSession(user, chapter, member);
    showInChat(true);
    session.start();
    view.body.focus();
  } catch (error) {
    showNotice(`Join failed: ${error instanceof Error ? error.message : error}`, 'error');
  } finally {
    view.join.disabled = false;
  }
});

view.leave.addEventListener('click', async () => {
  if (!session) return;
  const leaving = session;
  session = null;
  leaving.stop();
  showInChat(false);
  clearNotice();
  try {
    const answer = await call(leaving.user, 'leave_group_chat', { id: leaving.chapter });
    if (answer.code !== 200) showNotice(`Leave answered ${answer.code}: ${answer.msg}`, 'warning');
    else showNotice(`Left chapter ${leaving.chapter}.`);
  } catch (error) {
    showNotice(`Leave failed: ${error instanceof Error ? error.message : error}`, 'error');
  }
});

view.composer.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = view.body.value.trim();
  if (!session || text === '') return;
  view.body.value = '';
  if (!(await session.send(text)) && view.body.value === '') view.body.value = text;
  view.body.focus();
});

// The form starts from the URL, e.g. /?user_id=7&user_type=2&user_name=Ada&chapter=3, to open two users side by side.
for (const [key, value] of new URLSearchParams(location.search)) {
  const field = view.session.elements.namedItem(key);
  if (field instanceof HTMLInputElement) field.value = value;
}
