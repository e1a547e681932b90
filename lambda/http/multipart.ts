/**
 * multipart/form-data bodies — what browser and Node `FormData`, mobile HTTP stacks and `curl -F`
 * send — read as a form: named text fields only. The parsing is @fastify/busboy's (the parser
 * middy's own multipart middleware uses); what is accepted, and how a refusal reads, is decided here.
 */
import type { BusboyInstance } from '@fastify/busboy';
import { ErrorCode } from '../contract';
import { ApiError, badRequest } from './errors';

/** Our routes take at most four parameters, so ten parts leave room for clients that add a field or two. */
export const MAX_MULTIPART_PARTS = 10;

/**
 * The largest field value: the longest valid one is a 2 000-character message of 4-byte characters,
 * 8 000 bytes. (The whole body stays within MAX_BODY_BYTES too.)
 */
export const MAX_MULTIPART_FIELD_BYTES = 8 * 1024;

/** Transfer encodings that leave the text as it is (RFC 7578 deprecates the others). */
const IDENTITY_ENCODINGS = new Set(['7bit', '8bit', 'binary']);

/** A client-chosen part name, quoted and cut short, for an error message. */
const quoted = (name: string): string => JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);

/**
 * The text fields of a multipart/form-data body, in order. Refused, with a message naming the
 * problem: a Content-Type without a usable boundary and a body that does not follow its boundary
 * to the closing delimiter (400), a file part (400) or a part that is not text/plain (415), a part
 * without a name (400), a field over MAX_MULTIPART_FIELD_BYTES or more than MAX_MULTIPART_PARTS
 * parts (413).
 */
export async function readMultipartFields(body: Buffer, contentType: string): Promise<[string, string][]> {
  // Loaded on the first multipart request, so JSON and form requests (a cold start's first poll
  // among them) never evaluate the parser.
  const { default: Busboy } = await import('@fastify/busboy');
  let parser: BusboyInstance;
  try {
    parser = Busboy({
      headers: { 'content-type': contentType },
      limits: { parts: MAX_MULTIPART_PARTS, fields: MAX_MULTIPART_PARTS, fieldSize: MAX_MULTIPART_FIELD_BYTES },
      // Every part that is not plain text comes as a "file", to be refused; a text/plain part with a filename is a file too.
      isPartAFile: (_name, type, filename) => filename !== undefined || type !== 'text/plain',
    });
  } catch {
    // No boundary parameter, or one longer than the parser takes.
    throw badRequest('Content-Type multipart/form-data must give a boundary of 1 to 70 characters');
  }

  return new Promise((resolve, reject) => {
    const fields: [string, string][] = [];
    /** The first problem found; the body is still read to its end, so the parser finishes. */
    let refusal: ApiError | undefined;
    const refuse = (error: ApiError) => {
      refusal ??= error;
    };

    parser.on('field', (name: string | undefined, value: string, _nameTruncated: boolean, valueTruncated: boolean, encoding: string) => {
      if (name === undefined) refuse(badRequest('every multipart part must be named (Content-Disposition: form-data; name="…")'));
      else if (valueTruncated) {
        refuse(new ApiError(ErrorCode.PayloadTooLarge, `multipart field ${quoted(name)} must be at most ${MAX_MULTIPART_FIELD_BYTES / 1024} KB`));
      } else if (!IDENTITY_ENCODINGS.has(encoding)) {
        refuse(new ApiError(ErrorCode.UnsupportedMediaType, `multipart field ${quoted(name)} must be sent as is, not in Content-Transfer-Encoding ${encoding}`));
      } else fields.push([name, value]);
    });
    parser.on('file', (name: string | undefined, stream: NodeJS.ReadableStream, filename: string | undefined, _encoding: string, type: string) => {
      // Drained unread, so the parser goes on to the end. A body cut inside the part also fails the
      // part's stream, which would throw (no listener) and take the process down; the parser's own
      // 'error' already answers it.
      stream.on('error', () => {});
      stream.resume();
      const part = name === undefined ? 'a multipart part' : `multipart part ${quoted(name)}`;
      if (filename !== undefined) refuse(badRequest(`${part} is a file: only text fields are read`));
      else refuse(new ApiError(ErrorCode.UnsupportedMediaType, `${part} has Content-Type ${type}: only text fields (text/plain) are read`));
    });
    parser.on('partsLimit', () => refuse(new ApiError(ErrorCode.PayloadTooLarge, `a multipart body must have at most ${MAX_MULTIPART_PARTS} parts`)));
    parser.on('error', () =>
      reject(badRequest('multipart body is malformed: it must follow the boundary of its Content-Type, up to the closing delimiter')),
    );
    parser.on('finish', () => (refusal ? reject(refusal) : resolve(fields)));
    parser.end(body);
  });
}
