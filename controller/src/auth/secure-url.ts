import { PeeringError } from '../domain/errors.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** `true` for `127.0.0.1`, `[::1]` and `localhost` (RFC 8252 §8.3: traffic that never leaves the machine). */
export function isLoopbackUrl(url: string | URL): boolean {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return LOOPBACK_HOSTS.has(parsed.hostname) || /^127\.\d+\.\d+\.\d+$/.test(parsed.hostname);
  } catch {
    return false;
  }
}

/** `https:`, or plain `http:` to a loopback address (a local issuer in a test or a demo). */
export function isSecureUrl(url: string | URL): boolean {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackUrl(parsed));
  } catch {
    return false;
  }
}

/**
 * Refuses a URL a bearer token or a key set would travel over in clear text, unless it stays on this machine.
 *
 * @example
 * requireSecureUrl('http://127.0.0.1:9000/oauth2', 'auth.issuers[0].issuer'); // fine
 * requireSecureUrl('http://idp.example.net', 'auth.issuers[0].issuer'); // throws INVALID_CONFIG
 */
export function requireSecureUrl(url: string, field: string): URL {
  if (!isSecureUrl(url)) {
    throw new PeeringError(
      'INVALID_CONFIG',
      `${url} must use https (plain http only to 127.0.0.1, [::1] or localhost)`,
      field,
    );
  }
  return new URL(url);
}
