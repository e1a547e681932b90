/**
 * multipart/form-data bodies, read as a form: text fields only, within limits, and every body the
 * parser cannot read in full refused with a message that names the problem. Valid bodies are made
 * by Node's own FormData (as `fetch` sends them); broken ones by hand, since no client sends them.
 * Events are built as API Gateway delivers them (multipart is binary, so base64-encoded).
 */
import { apiGatewayEvent } from '../../local/api-gateway-event';
import { MAX_BODY_BYTES, readParams, requiredText } from '../../lambda/http/params';
import { MAX_MULTIPART_FIELD_BYTES, MAX_MULTIPART_PARTS } from '../../lambda/http/multipart';

const BOUNDARY = 'TestBoundary7MA4YWxkTrZu0gW';
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

function event(body: Buffer | string, contentType: string | undefined = CONTENT_TYPE) {
  return apiGatewayEvent({
    method: 'POST',
    url: '/message/send_group_chat',
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    body: Buffer.from(body),
  });
}

/** One part as RFC 7578 lays it out; `headers` go after Content-Disposition. */
const part = (disposition: string, value: string, headers: string[] = []) =>
  `--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${value}\r\n`;
const field = (name: string, value: string, headers: string[] = []) => part(`form-data; name="${name}"`, value, headers);
const CLOSE = `--${BOUNDARY}--\r\n`;

/** The body and Content-Type Node's fetch sends for this FormData. */
async function fromFormData(form: FormData): Promise<{ body: Buffer; contentType: string }> {
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return { body: Buffer.from(await request.arrayBuffer()), contentType: request.headers.get('content-type')! };
}

const entries = async (body: Buffer | string, contentType?: string) => Object.fromEntries(await readParams(event(body, contentType)));

describe('multipart/form-data is read as a form', () => {
  it('reads the text fields of a FormData body, as fetch sends it', async () => {
    const form = new FormData();
    form.append('id', '1');
    form.append('msg_time', '0');
    const { body, contentType } = await fromFormData(form);
    expect(contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(await entries(body, contentType)).toEqual({ id: ['1'], msg_time: ['0'] });
  });

  it('keeps Chinese text and emoji intact (UTF-8), and takes the query string too', async () => {
    const text = '老师好 👋 第三章的作业什么时候交？🙂';
    const form = new FormData();
    form.append('msg_body', text);
    const { body, contentType } = await fromFormData(form);
    const params = await readParams({ ...event(body, contentType), rawQueryString: 'id=2' });
    expect(Object.fromEntries(params)).toEqual({ id: ['2'], msg_body: [text] });
    expect(requiredText(params, 'msg_body', 2000)).toBe(text);
  });

  it('reads a body API Gateway did not base64-encode (a proxy in front may send it plain)', async () => {
    const raw = field('id', '1') + field('msg_body', '你好') + CLOSE;
    const plain = { ...event(raw), body: raw, isBase64Encoded: false };
    expect(Object.fromEntries(await readParams(plain))).toEqual({ id: ['1'], msg_body: ['你好'] });
  });

  it.each([
    ['a quoted boundary', `multipart/form-data; boundary="${BOUNDARY}"`],
    ['an upper-case type and a charset', `Multipart/Form-Data; charset=UTF-8; boundary=${BOUNDARY}`],
  ])('takes %s in the Content-Type', async (_, contentType) => {
    expect(await entries(field('id', '1') + CLOSE, contentType)).toEqual({ id: ['1'] });
  });

  it('takes text/plain parts with a charset, a preamble and an epilogue, and repeated fields as a form does', async () => {
    const body = [
      'a preamble clients may send\r\n',
      field('id', '1', ['Content-Type: text/plain; charset=UTF-8']),
      field('id', '1'),
      field('msg_body', Buffer.from('café', 'latin1').toString('binary'), ['Content-Type: text/plain; charset=ISO-8859-1']),
      field('empty', ''),
      CLOSE,
      'an epilogue',
    ].join('');
    expect(await entries(Buffer.from(body, 'binary'))).toEqual({ id: ['1', '1'], msg_body: ['café'], empty: [''] });
  });

  it(`takes ${MAX_MULTIPART_PARTS} parts, and a 2 000-character message of 4-byte characters (8 000 bytes)`, async () => {
    const fields = Array.from({ length: MAX_MULTIPART_PARTS - 1 }, (_, i) => field(`extra${i}`, 'x')).join('');
    const message = '😀'.repeat(2000);
    const params = await readParams(event(fields + field('msg_body', message) + CLOSE));
    expect(params.size).toBe(MAX_MULTIPART_PARTS);
    expect(requiredText(params, 'msg_body', 2000)).toBe(message);
  });

  it('reads an empty body (a closing delimiter alone) as no parameters', async () => {
    expect(await entries(CLOSE)).toEqual({});
  });
});

describe('what multipart/form-data bodies are refused, naming the problem', () => {
  const refusal = async (body: Buffer | string, contentType?: string) => {
    const error = await readParams(event(body, contentType)).then(
      () => undefined,
      (e: { code: number; message: string }) => e,
    );
    return error && { code: error.code, msg: error.message };
  };
  const MALFORMED = 'multipart body is malformed: it must follow the boundary of its Content-Type, up to the closing delimiter';
  const NO_BOUNDARY = 'Content-Type multipart/form-data must give a boundary of 1 to 70 characters';
  const valid = field('id', '1') + field('msg_time', '0') + CLOSE;

  it.each<[string, string, string | undefined, number, string]>([
    ['no boundary', valid, 'multipart/form-data', 400, NO_BOUNDARY],
    ['a boundary too long for the parser', valid, `multipart/form-data; boundary=${'b'.repeat(300)}`, 400, NO_BOUNDARY],
    ['an empty boundary', valid, 'multipart/form-data; boundary=', 400, MALFORMED],
    ['a boundary the body does not use', valid, 'multipart/form-data; boundary=SomethingElse', 400, MALFORMED],
    ['a body cut in a part', valid.slice(0, 60), undefined, 400, MALFORMED],
    ['a body cut before the closing delimiter', field('id', '1'), undefined, 400, MALFORMED],
    ['a body cut in the closing delimiter', valid.slice(0, -6), undefined, 400, MALFORMED],
    ['a form-urlencoded body sent as multipart', 'id=1&msg_time=0', undefined, 400, MALFORMED],
    ['a part with a filename', field('id', '1') + part('form-data; name="msg_body"; filename="note.txt"', 'hi', ['Content-Type: text/plain']) + CLOSE, undefined, 400, 'multipart part "msg_body" is a file: only text fields are read'],
    ['a file part without a type (curl -F msg_body=@file)', part('form-data; name="msg_body"; filename="a"', 'hi') + CLOSE, undefined, 400, 'multipart part "msg_body" is a file: only text fields are read'],
    ['a binary part', field('msg_body', '\u0000\u0001', ['Content-Type: application/octet-stream']) + CLOSE, undefined, 415, 'multipart part "msg_body" has Content-Type application/octet-stream: only text fields (text/plain) are read'],
    ['an image part without a filename', field('id', 'x', ['Content-Type: image/png']) + CLOSE, undefined, 415, 'multipart part "id" has Content-Type image/png: only text fields (text/plain) are read'],
    ['a JSON part', field('id', '1', ['Content-Type: application/json']) + CLOSE, undefined, 415, 'multipart part "id" has Content-Type application/json: only text fields (text/plain) are read'],
    ['a base64 transfer encoding', field('msg_body', 'aGk=', ['Content-Transfer-Encoding: base64']) + CLOSE, undefined, 415, 'multipart field "msg_body" must be sent as is, not in Content-Transfer-Encoding base64'],
    ['a part without a name', part('form-data', '1') + CLOSE, undefined, 400, 'every multipart part must be named (Content-Disposition: form-data; name="…")'],
    ['an oversized field', field('msg_body', 'x'.repeat(MAX_MULTIPART_FIELD_BYTES + 1)) + CLOSE, undefined, 413, `multipart field "msg_body" must be at most ${MAX_MULTIPART_FIELD_BYTES / 1024} KB`],
    [`${MAX_MULTIPART_PARTS + 1} parts`, Array.from({ length: MAX_MULTIPART_PARTS + 1 }, (_, i) => field(`f${i}`, 'x')).join('') + CLOSE, undefined, 413, `a multipart body must have at most ${MAX_MULTIPART_PARTS} parts`],
    ['400 empty fields (as many as 32 KB holds)', `--${BOUNDARY}\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n`.repeat(400) + CLOSE, undefined, 413, `a multipart body must have at most ${MAX_MULTIPART_PARTS} parts`],
    ['800 parts without headers', `--${BOUNDARY}\r\n\r\n\r\n`.repeat(800) + CLOSE, undefined, 413, `a multipart body must have at most ${MAX_MULTIPART_PARTS} parts`],
  ])('%s', async (_, body, contentType, code, msg) => {
    expect(await refusal(body, contentType)).toEqual({ code, msg });
  });

  it('names the first problem when there are several, and cuts a long part name short', async () => {
    const longName = 'n'.repeat(100);
    const body = part(`form-data; name="${longName}"; filename="a.png"`, 'x', ['Content-Type: image/png']) + field('id', 'x'.repeat(MAX_MULTIPART_FIELD_BYTES + 1)) + CLOSE;
    expect(await refusal(body)).toEqual({ code: 400, msg: `multipart part "${'n'.repeat(40)}…" is a file: only text fields are read` });
  });

  it(`refuses a body over ${MAX_BODY_BYTES / 1024} KB before parsing it (413)`, async () => {
    const body = Array.from({ length: 5 }, (_, i) => field(`f${i}`, 'x'.repeat(7000))).join('') + CLOSE;
    expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_BODY_BYTES);
    expect(await refusal(body)).toEqual({ code: 413, msg: `request body must be at most ${MAX_BODY_BYTES / 1024} KB` });
  });
});

describe('every other content type is still refused (415)', () => {
  it.each([
    'text/plain',
    'text/csv',
    'application/xml',
    'application/octet-stream',
    'multipart/mixed; boundary=x',
    'multipart/related; boundary=x',
    'multipart/alternative; boundary=x',
    'multipart/form-data-x; boundary=x',
    'application/x-www-form-urlencoded-x',
    'form-data',
    'image/png',
  ])('%s', async (contentType) => {
    await expect(readParams(event('id=1&msg_time=0', contentType))).rejects.toMatchObject({
      code: 415,
      message: 'Content-Type must be application/json, application/x-www-form-urlencoded or multipart/form-data',
    });
  });
});
