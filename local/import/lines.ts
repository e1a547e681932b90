/**
 * The import file as lines, with their exact bytes: the checkpoint records how many bytes are done
 * and a SHA-256 of them, so a resumed run can seek there and can tell whether the file changed.
 */
import { createReadStream } from 'node:fs';

export interface Line {
  /** 1-based. */
  number: number;
  /** The line's text, without its line break (and without a UTF-8 BOM on line 1). */
  text: string;
  /** The line's bytes as in the file, line break included. */
  raw: Buffer;
}

const NEWLINE = 0x0a;

/** The file's lines from byte `start` (numbered from `firstNumber`), a chunk's worth at a time. */
export async function* readLines(path: string, start = 0, firstNumber = 1): AsyncGenerator<Line[]> {
  let number = firstNumber;
  let rest: Buffer = Buffer.alloc(0);
  const toLine = (raw: Buffer): Line => {
    let end = raw.length;
    if (end > 0 && raw[end - 1] === NEWLINE) end--;
    if (end > 0 && raw[end - 1] === 0x0d) end--;
    let text = raw.toString('utf8', 0, end);
    if (number === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { number: number++, text, raw };
  };
  for await (const chunk of createReadStream(path, { start, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    const lines: Line[] = [];
    let from = 0;
    for (let at = data.indexOf(NEWLINE); at !== -1; at = data.indexOf(NEWLINE, from)) {
      lines.push(toLine(data.subarray(from, at + 1)));
      from = at + 1;
    }
    rest = data.subarray(from);
    if (lines.length > 0) yield lines;
  }
  if (rest.length > 0) yield [toLine(rest)];
}
