import { request, type Dispatcher } from 'undici';

/** One HTTP exchange as the client needs it: the status, a few headers and the body, read whole. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | undefined>;
  /** The body as text (empty for 204). */
  text: string;
  contentType: string | undefined;
}

export interface HttpExchange {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string | undefined;
}

export interface ExchangeLimits {
  /** The whole attempt (connect, headers and body) must finish within this time. */
  timeoutMs: number;
  /** Bodies larger than this are cut off: an endless or huge answer must not exhaust memory. */
  maxBodyBytes: number;
}

/** Why an attempt produced no usable answer. `network` and `timeout` may be retried; the others not. */
export type TransportFailureKind = 'network' | 'timeout' | 'too-large' | 'cancelled';

export class TransportFailure extends Error {
  constructor(
    readonly kind: TransportFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportFailure';
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Sends one request and reads the whole answer within `limits`. undici's own idle timeouts do not stop a
 * server that trickles bytes forever, so the attempt is bounded as a whole by one timer, and the body by size.
 */
export async function exchange(
  dispatcher: Dispatcher,
  call: HttpExchange,
  limits: ExchangeLimits,
  signal?: AbortSignal,
): Promise<HttpAnswer> {
  if (signal?.aborted)
    throw new TransportFailure('cancelled', 'the call was cancelled', { cause: signal.reason });
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), limits.timeoutMs);
  const combined = signal === undefined ? timer.signal : AbortSignal.any([timer.signal, signal]);
  const why = (cause: unknown): TransportFailure => {
    if (signal?.aborted) return new TransportFailure('cancelled', 'the call was cancelled', { cause });
    if (timer.signal.aborted) {
      return new TransportFailure('timeout', `no complete answer within ${limits.timeoutMs} ms`, { cause });
    }
    const code = (cause as { code?: string }).code;
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new TransportFailure(
      code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ? 'timeout' : 'network',
      `${code ? `${code}: ` : ''}${detail}`,
      { cause },
    );
  };
  try {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(call.url, {
        dispatcher,
        method: call.method,
        headers: call.headers,
        body: call.body,
        signal: combined,
        headersTimeout: limits.timeoutMs,
        bodyTimeout: limits.timeoutMs,
      });
    } catch (cause) {
      throw why(cause);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limits.maxBodyBytes) {
          response.body.destroy();
          throw new TransportFailure('too-large', `the answer is larger than ${limits.maxBodyBytes} bytes`);
        }
        chunks.push(chunk);
      }
    } catch (cause) {
      if (cause instanceof TransportFailure) throw cause;
      throw why(cause);
    }
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return {
      status: response.statusCode,
      headers,
      text: decoder.decode(Buffer.concat(chunks)),
      contentType: headers['content-type'],
    };
  } finally {
    clearTimeout(timeout);
  }
}
