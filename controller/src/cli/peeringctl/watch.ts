import { isFinalStatus, type RemoteSession } from '../../client/answers.js';

/** Where a set of watched sessions stands. */
export interface WatchState {
  /** `2 sessions: 1 approved, 1 established`. */
  summary: string;
  /** Every session has a final status (established, rejected, unestablished). */
  done: boolean;
  /** Every session is established. */
  established: boolean;
}

/** Pure: the state of the watched sessions, for the progress line and the exit code. */
export function watchState(sessions: readonly RemoteSession[]): WatchState {
  const counts = new Map<string, number>();
  for (const s of sessions) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  const parts = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([status, n]) => `${n} ${status}`);
  return {
    summary: `${sessions.length} session${sessions.length === 1 ? '' : 's'}: ${parts.join(', ')}`,
    done: sessions.length > 0 && sessions.every((s) => isFinalStatus(s.status)),
    established: sessions.length > 0 && sessions.every((s) => s.status === 'established'),
  };
}

/**
 * One line of progress on stderr: rewritten in place on a terminal, a new line per change otherwise (logs and
 * CI see each step once, not a flood of elapsed-time updates).
 */
export class ProgressLine {
  private last = '';
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = stream.isTTY === true;
  }

  show(text: string, elapsedMs: number): void {
    if (this.tty) {
      this.stream.write(`\r\x1b[2K[${Math.round(elapsedMs / 1000)}s] ${text}`);
    } else if (text !== this.last) {
      this.stream.write(`[${Math.round(elapsedMs / 1000)}s] ${text}\n`);
    }
    this.last = text;
  }

  end(): void {
    if (this.tty && this.last !== '') this.stream.write('\n');
  }
}
