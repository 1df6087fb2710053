import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { PeeringError } from '../domain/errors.js';

/**
 * Opaque, tamper-evident page tokens bound to the query they answer (docs/api.md §7): a token carries the
 * store's cursor and a digest of the query, sealed with an HMAC. A forged token, or one replayed on another
 * query or by another caller, is a 400.
 */
export class PageTokens {
  constructor(private readonly key: Buffer) {}

  issue(query: Record<string, unknown>, cursor: string): string {
    const payload = Buffer.from(JSON.stringify({ q: digest(query), c: cursor })).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  /** The cursor inside a token, after checking it belongs to this query. */
  open(query: Record<string, unknown>, token: string): string {
    const [payload, signature, extra] = token.split('.');
    const invalid = () =>
      new PeeringError('INVALID_NEXT_TOKEN', 'next_token is not valid for this query', 'next_token');
    if (!payload || !signature || extra !== undefined) throw invalid();
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid();
    let decoded: { q?: unknown; c?: unknown };
    try {
      decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof decoded;
    } catch {
      throw invalid();
    }
    if (decoded.q !== digest(query) || typeof decoded.c !== 'string') throw invalid();
    return decoded.c;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

function digest(query: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(query)
      .sort()
      .map((k) => [k, query[k] ?? null]),
  );
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}
