/** The progress line `crosslink submit` keeps redrawing on a terminal: done, rate, ETA. */
import type { SubmitProgress } from './submit.js';

/**
 * One progress line.
 *
 * @example
 * formatProgress({ rowsAcknowledged: 21000, rowsTotal: 50000, rowsAtStart: 0, accepted: 20990, rejected: 10, retries: 2, elapsedMs: 6000 })
 * // ' 42% 21,000/50,000 rows · 3,500 rows/s · ETA 0:08 · 20,990 accepted · 10 rejected · 2 retries'
 */
export function formatProgress(progress: SubmitProgress): string {
  const { rowsAcknowledged, rowsTotal } = progress;
  const percent = rowsTotal > 0 ? Math.min(100, Math.floor((rowsAcknowledged / rowsTotal) * 100)) : 100;
  const rowsThisRun = rowsAcknowledged - progress.rowsAtStart;
  const ratePerSecond = progress.elapsedMs > 0 ? (rowsThisRun * 1000) / progress.elapsedMs : 0;
  const remaining = Math.max(0, rowsTotal - rowsAcknowledged);
  const eta = ratePerSecond > 0 ? formatDuration(remaining / ratePerSecond) : '--:--';
  const parts = [
    `${String(percent).padStart(3)}% ${count(rowsAcknowledged)}/${count(rowsTotal)} rows`,
    `${count(Math.round(ratePerSecond))} rows/s`,
    `ETA ${eta}`,
    `${count(progress.accepted)} accepted`,
    `${count(progress.rejected)} rejected`,
  ];
  if (progress.retries > 0) parts.push(`${count(progress.retries)} retries`);
  return parts.join(' · ');
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function formatDuration(seconds: number): string {
  const whole = Math.ceil(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`;
}

/** A stream the progress line can be drawn on. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Redraws the progress line in place at most every `intervalMs`, only on a terminal (a log file
 * would fill with carriage returns).
 *
 * @example
 * const progress = terminalProgress(process.stderr);
 * await submitFile({ ...options, onProgress: progress.update });
 * progress.finish();
 */
export function terminalProgress(stream: ProgressStream, intervalMs = 100): { update: (progress: SubmitProgress) => void; finish: () => void } {
  let lastDrawMs = 0;
  let drawn = false;
  let latest: SubmitProgress | undefined;
  const draw = () => {
    if (!latest) return;
    stream.write(`\r\x1b[2K${formatProgress(latest)}`);
    drawn = true;
  };
  return {
    update(progress) {
      if (!stream.isTTY) return;
      latest = progress;
      const now = Date.now();
      if (now - lastDrawMs >= intervalMs || progress.rowsAcknowledged >= progress.rowsTotal) {
        lastDrawMs = now;
        draw();
      }
    },
    finish() {
      if (!stream.isTTY) return;
      draw();
      if (drawn) stream.write('\n');
    },
  };
}
