import { CommanderError } from 'commander';
import { PeeringApiError } from '../../client/errors.js';
import { PeeringError } from '../../domain/errors.js';

/**
 * peeringctl's exit codes, documented in `peeringctl --help`. Scripts (and the Terraform constructs) branch on
 * them, so a code never changes meaning.
 */
export const EXIT = {
  /** Done: every session accepted, deleted (or already absent), established when watched. */
  ok: 0,
  /** The peer's API could not be used: unreachable, timed out, 5xx, rate limited, or an answer not following the API. */
  failure: 1,
  /** Wrong or missing flags. */
  usage: 2,
  /** The -f PeeringRequest file (or a PeeringDB folder) is unreadable or invalid. */
  input: 3,
  /** The peer refused: some or all sessions rejected, or the request was invalid in its eyes (4xx). */
  refused: 4,
  /** Not authenticated (401) or not allowed (403). */
  auth: 5,
  /** No such session. */
  notFound: 6,
  /** `status --watch` ended with a session rejected or unestablished. */
  sessionFailed: 7,
  /** `status --watch` gave up before every session reached a final status. */
  watchTimeout: 8,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  0  success (request: every session accepted; delete: deleted or already absent; status --watch: established)
  1  the peer's API could not be used (unreachable, timeout, 5xx, rate limited, answer not following the API)
  2  usage error (unknown, missing or invalid flags)
  3  invalid input file (-f PeeringRequest YAML, PeeringDB folder)
  4  refused by the peer (some or all sessions rejected, or another 4xx)
  5  not authenticated (401) or not allowed (403)
  6  no such session
  7  status --watch: a session ended rejected or unestablished
  8  status --watch: gave up (--watch-timeout) before every session was final`;

/** A mistake in the command line, found by peeringctl itself. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The exit code for whatever ended a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof UsageError) return EXIT.usage;
  if (!(error instanceof PeeringError)) return EXIT.failure;
  switch (error.code) {
    case 'UNAUTHENTICATED':
    case 'FORBIDDEN_ASN':
      return EXIT.auth;
    case 'SESSION_NOT_FOUND':
    case 'NOT_FOUND':
      return EXIT.notFound;
    case 'INVALID_CONFIG':
      return EXIT.input;
    case 'REMOTE_UNAVAILABLE':
    case 'REMOTE_PROTOCOL':
    case 'TIMEOUT':
    case 'RATE_LIMITED':
    case 'INTERNAL':
    case 'IDENTITY_PROVIDER_UNAVAILABLE':
      return EXIT.failure;
    default:
      // Our own checks of flags fail before anything is sent; the peer's 4xx verdicts are refusals.
      return error instanceof PeeringApiError && error.httpStatus !== undefined ? EXIT.refused : EXIT.usage;
  }
}
