import { isIP } from 'node:net';
import { parseIpAddress, prefixContains, unusableEndpoint, type IpAddress } from './ip.js';

/** What a receiver lets a `return_url` point at before it sends a counter-request there. */
export interface ReturnUrlRules {
  /** `http:` and loopback targets (a lab on one machine); production keeps it off. */
  allowLoopback: boolean;
  /** Private (RFC 1918, RFC 6598, ULA) targets, for peers reached over a private network. */
  allowPrivate: boolean;
}

export const MAX_RETURN_URL = 2048;

const PRIVATE: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  'fc00::/7',
];

/**
 * Why a peer's `return_url` may not receive a counter-request, or undefined when it may. A counter-request is a
 * request our operator sends on a stranger's word, so the URL must not turn it into a probe of our own network
 * (server-side request forgery): https only, no credentials in it, a bounded length, and no loopback, private,
 * link-local (cloud metadata lives there) or otherwise special address unless configured. Host names are checked
 * again on the addresses they resolve to, when the request is sent (`returnUrlAddressProblem`).
 *
 * @example
 * returnUrlProblem('https://peering.example.net/v0.1', { allowLoopback: false, allowPrivate: false }); // undefined
 * returnUrlProblem('https://169.254.169.254/v0.1', RULES); // '169.254.169.254 is a link-local address…'
 */
export function returnUrlProblem(text: string, rules: ReturnUrlRules): string | undefined {
  if (text.length > MAX_RETURN_URL) return `is longer than ${MAX_RETURN_URL} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.username !== '' || url.password !== '') return 'carries credentials; a return_url never may';
  if (url.hash !== '') return 'carries a fragment';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopbackName = host === 'localhost' || host.endsWith('.localhost');
  const address = isIP(host) === 0 ? undefined : parseIpAddress(host);
  const loopback = loopbackName || (typeof address === 'object' && isLoopback(address));
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && rules.allowLoopback && loopback)) {
    return `must be an https URL${rules.allowLoopback ? ' (http only on loopback)' : ''}`;
  }
  if (loopbackName && !rules.allowLoopback) return `${host} is this machine`;
  if (typeof address === 'object') return returnUrlAddressProblem(address, rules);
  return undefined;
}

/** Why a counter-request may not go to this (resolved) address, or undefined when it may. */
export function returnUrlAddressProblem(address: IpAddress, rules: ReturnUrlRules): string | undefined {
  const special = unusableEndpoint(address, rules.allowLoopback);
  if (special !== undefined) return special.replace(', which can never be a BGP endpoint', '');
  if (!rules.allowPrivate && PRIVATE.some((prefix) => prefixContains(prefix, address))) {
    return `${address.address} is a private address`;
  }
  return undefined;
}

function isLoopback(address: IpAddress): boolean {
  return prefixContains('127.0.0.0/8', address) || prefixContains('::1/128', address);
}
