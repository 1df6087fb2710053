import { request } from 'undici';
import { PeeringError } from '../domain/errors.js';
import type { PeeringDb } from './peeringdb.js';
import { readEnvelope, type ObjectName, type RecordOf } from './records.js';

export interface LivePeeringDbOptions {
  /** Base URL of the API, `https://www.peeringdb.com/api` in production. */
  url: string;
  /** Optional API key: higher rate limits (40/min instead of 20/min); it proves nothing about identity. */
  apiKey?: string | undefined;
  /** How long an answer is reused; PeeringDB data changes slowly and its rate limits are tight. */
  cacheTtlMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

/** PeeringDB's REST API, read on demand with a small TTL cache. */
export class LivePeeringDb implements PeeringDb {
  private readonly cache = new Map<string, { at: number; value: Promise<unknown[]> }>();
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(private readonly options: LivePeeringDbOptions) {
    this.ttl = options.cacheTtlMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  async network(asn: number) {
    return (await this.query('net', `asn=${asn}`))[0];
  }
  netixlans(asn: number) {
    return this.query('netixlan', `asn=${asn}`);
  }
  async ix(ixId: number) {
    return (await this.query('ix', `id=${ixId}`))[0];
  }
  prefixes(ixlanId: number) {
    return this.query('ixpfx', `ixlan_id=${ixlanId}`);
  }
  netfacs(asn: number) {
    return this.query('netfac', `local_asn=${asn}`);
  }
  async facility(facId: number) {
    return (await this.query('fac', `id=${facId}`))[0];
  }

  private query<O extends ObjectName>(object: O, filter: string): Promise<RecordOf<O>[]> {
    const key = `${object}?${filter}`;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < this.ttl) return hit.value as Promise<RecordOf<O>[]>;
    const value = this.fetch(object, key);
    this.cache.set(key, { at: this.now(), value });
    // A failure must not be cached: the next call tries again.
    value.catch(() => this.cache.delete(key));
    return value;
  }

  private async fetch<O extends ObjectName>(object: O, key: string): Promise<RecordOf<O>[]> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.apiKey) headers.authorization = `Api-Key ${this.options.apiKey}`;
    const url = `${this.options.url.replace(/\/$/, '')}/${key}`;
    let status: number;
    let body: unknown;
    try {
      const timeout = this.options.timeoutMs ?? 10_000;
      const response = await request(url, { headers, headersTimeout: timeout, bodyTimeout: timeout });
      status = response.statusCode;
      body = status === 200 ? await response.body.json() : (await response.body.dump(), undefined);
    } catch (cause) {
      throw new PeeringError('REMOTE_UNAVAILABLE', `PeeringDB (${url}) cannot be reached`, 'peeringdb', {
        cause,
      });
    }
    if (status !== 200)
      throw new PeeringError('REMOTE_UNAVAILABLE', `PeeringDB answered ${status} for ${url}`);
    const read = readEnvelope(object, body);
    if ('problem' in read)
      throw new PeeringError('REMOTE_PROTOCOL', `PeeringDB's answer for ${url} is not an API envelope`);
    return read.records;
  }
}
