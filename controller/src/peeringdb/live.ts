import { request } from 'undici';
import type { z } from 'zod';
import { PeeringError } from '../domain/errors.js';
import type { PeeringDb } from './peeringdb.js';
import {
  FacSchema,
  IxPfxSchema,
  IxSchema,
  NetFacSchema,
  NetIxLanSchema,
  NetSchema,
  envelopeOf,
  isLive,
} from './records.js';

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
    return (await this.query('net', `asn=${asn}`, NetSchema))[0];
  }
  netixlans(asn: number) {
    return this.query('netixlan', `asn=${asn}`, NetIxLanSchema);
  }
  async ix(ixId: number) {
    return (await this.query('ix', `id=${ixId}`, IxSchema))[0];
  }
  prefixes(ixlanId: number) {
    return this.query('ixpfx', `ixlan_id=${ixlanId}`, IxPfxSchema);
  }
  netfacs(asn: number) {
    return this.query('netfac', `local_asn=${asn}`, NetFacSchema);
  }
  async facility(facId: number) {
    return (await this.query('fac', `id=${facId}`, FacSchema))[0];
  }

  private query<T extends z.ZodType<{ status?: string | undefined }>>(
    object: string,
    filter: string,
    schema: T,
  ): Promise<z.infer<T>[]> {
    const key = `${object}?${filter}`;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < this.ttl) return hit.value as Promise<z.infer<T>[]>;
    const value = this.fetch(key, schema);
    this.cache.set(key, { at: this.now(), value });
    // A failure must not be cached: the next call tries again.
    value.catch(() => this.cache.delete(key));
    return value;
  }

  private async fetch<T extends z.ZodType<{ status?: string | undefined }>>(
    key: string,
    schema: T,
  ): Promise<z.infer<T>[]> {
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
    const parsed = envelopeOf(schema).safeParse(body);
    if (!parsed.success)
      throw new PeeringError('REMOTE_PROTOCOL', `PeeringDB's answer for ${url} is not an API envelope`);
    return (parsed.data.data as z.infer<T>[]).filter(isLive);
  }
}
