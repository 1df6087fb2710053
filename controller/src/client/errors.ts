import { ERROR_CATALOG, PeeringError, type ErrorCode, type FieldError } from '../domain/errors.js';

/**
 * One error item as a remote Peering API reported it, after tolerant reading (docs/api.md §11): `name` is the
 * field path in the server's wire reading (`local_*` = the server), `field` the same path in OUR reading
 * (`local_*` = us, `peer_*` = the remote network), `code` the remote's own code, kept even when it is not in
 * our catalog.
 */
export interface RemoteFieldError {
  name: string;
  field: string;
  errors: string[];
  code?: string | undefined;
}

/** What a failed call carries besides the catalog code. */
export interface PeeringApiErrorContext {
  method: string;
  url: string;
  /** The HTTP status the remote answered; absent when no answer came (network failure, timeout). */
  httpStatus?: number | undefined;
  remoteErrors?: RemoteFieldError[] | undefined;
  /** The remote's request-tracing header (`x-request-id`), for its operators. */
  traceId?: string | undefined;
  attempts?: number | undefined;
  retryAfterSeconds?: number | undefined;
  cause?: unknown;
}

/**
 * A failed call to a remote Peering API, with a code from our one catalog (`domain/errors.ts`) so that callers,
 * the CLI's exit codes and resource conditions treat every remote the same way, and with the remote's own
 * codes and field names kept in `remoteErrors`.
 *
 * @example
 * try {
 *   await client.getSession(id);
 * } catch (error) {
 *   if (error instanceof PeeringApiError && error.code === 'SESSION_NOT_FOUND') console.log('gone');
 *   else throw error;
 * }
 */
export class PeeringApiError extends PeeringError {
  readonly method: string;
  readonly url: string;
  readonly httpStatus: number | undefined;
  readonly remoteErrors: RemoteFieldError[];
  readonly traceId: string | undefined;
  readonly attempts: number;

  constructor(code: ErrorCode, message: string, field: string, context: PeeringApiErrorContext) {
    const remoteErrors = context.remoteErrors ?? [];
    const details: FieldError[] =
      remoteErrors.length > 0
        ? remoteErrors.map((e) => ({ name: e.name, errors: e.errors, code: catalogCode(e.code) ?? code }))
        : [{ name: field, errors: [message], code }];
    super(code, message, field, {
      cause: context.cause,
      details,
      retryAfterSeconds: context.retryAfterSeconds,
    });
    this.method = context.method;
    this.url = context.url;
    this.httpStatus = context.httpStatus;
    this.remoteErrors = remoteErrors;
    this.traceId = context.traceId;
    this.attempts = context.attempts ?? 1;
  }
}

/** The remote's code when our catalog knows it (another implementation may use codes of its own). */
export function catalogCode(code: string | undefined): ErrorCode | undefined {
  if (code === undefined) return undefined;
  const upper = code.toUpperCase();
  return Object.hasOwn(ERROR_CATALOG, upper) ? (upper as ErrorCode) : undefined;
}

/** The catalog code for an HTTP status when the remote gave no code we know. */
export function codeForStatus(status: number, notFound: ErrorCode = 'NOT_FOUND'): ErrorCode {
  switch (status) {
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN_ASN';
    case 404:
      return notFound;
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 406:
      return 'NOT_ACCEPTABLE';
    case 413:
      return 'BODY_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 422:
      return 'HUMAN_INTERVENTION_REQUIRED';
    case 429:
      return 'RATE_LIMITED';
    case 504:
      return 'TIMEOUT';
    default:
      return status >= 500 ? 'REMOTE_UNAVAILABLE' : 'INVALID_FIELD';
  }
}
