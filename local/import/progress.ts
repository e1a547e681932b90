/**
 * What the operator sees: on a terminal one line redrawn with `\r` (a bar, records/s, ETA), otherwise
 * a plain line every few seconds; messages in between; a summary at the end.
 */

export interface Output {
  /** A terminal: redraw the progress line in place. */
  isTTY: boolean;
  write(text: string): void;
}

export const stdoutOutput = (): Output => ({ isTTY: Boolean(process.stdout.isTTY), write: (text) => void process.stdout.write(text) });

/** A quiet output (tests). */
export const silentOutput = (): Output => ({ isTTY: false, write: () => undefined });

export interface ProgressState {
  /** Bytes of the file done (the checkpoint's position). */
  bytesDone: number;
  linesDone: number;
  /** Records (non-blank lines) done by this run. */
  records: number;
  inFlight: number;
  limit: number;
}

const TTY_EVERY_MS = 250;
const PLAIN_EVERY_MS = 5_000;
const BAR_WIDTH = 24;

/** 1234567 → "1 234 567" (thin groups, as in the docs). */
export function grouped(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** "1 chapter", "2 000 chapters". */
export const count = (n: number, word: string): string => `${grouped(n)} ${word}${n === 1 ? '' : 's'}`;

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private readonly startedAt = Date.now();
  private lastDrawAt = 0;
  private drawn = false;
  /** Recent (time, records) samples for the current rate. */
  private samples: [number, number][] = [];

  constructor(
    private readonly out: Output,
    private readonly totalBytes: number,
    private readonly startBytes: number,
  ) {}

  /** Prints a message on its own line (clearing the bar first on a terminal). */
  log(message: string): void {
    if (this.out.isTTY && this.drawn) this.out.write('\r\x1b[K');
    this.out.write(`${message}\n`);
    this.drawn = false;
  }

  /** Draws the progress when it is time to (call it often). */
  update(state: ProgressState, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDrawAt < (this.out.isTTY ? TTY_EVERY_MS : PLAIN_EVERY_MS)) return;
    this.lastDrawAt = now;
    this.samples.push([now, state.records]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 10_000) this.samples.shift();
    const [t0, r0] = this.samples[0];
    const rate = now > t0 ? ((state.records - r0) * 1000) / (now - t0) : 0;
    const elapsed = (now - this.startedAt) / 1000;
    const byteRate = (state.bytesDone - this.startBytes) / Math.max(elapsed, 0.001);
    const eta = byteRate > 0 ? (this.totalBytes - state.bytesDone) / byteRate : Infinity;
    const fraction = this.totalBytes > 0 ? Math.min(1, state.bytesDone / this.totalBytes) : 1;
    const percent = `${(fraction * 100).toFixed(1)}%`;
    const text = `${percent} · line ${grouped(state.linesDone)} · ${grouped(rate)} records/s · ETA ${duration(eta)} · ${state.inFlight}/${state.limit} in flight`;
    if (this.out.isTTY) {
      const filled = Math.round(fraction * BAR_WIDTH);
      this.out.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${text}`);
      this.drawn = true;
    } else {
      this.out.write(`import: ${text}\n`);
    }
  }

  /** Clears the bar before the summary. */
  end(): void {
    if (this.out.isTTY && this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }

  get seconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }
}
