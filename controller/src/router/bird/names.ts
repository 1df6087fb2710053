import { createHash } from 'node:crypto';

/** Every protocol the driver manages starts with this, so that `show protocols "po_*"` lists exactly ours. */
export const PROTOCOL_PREFIX = 'po_';

/** BIRD refuses symbols longer than this (SYM_MAX_LEN in BIRD 2.0). */
export const BIRD_SYMBOL_MAX = 64;

const NATURAL_KEY = /^([0-9]{1,10})\|pdb:(ix|fac):([0-9]{1,10})\|/;

/**
 * The BIRD protocol name of a session: a plain identifier derived from its key alone, so the same session gets
 * the same name in every process and after every restart.
 *
 * The readable part (peer ASN, location) helps people reading `birdc`; the 64-bit SHA-256 prefix makes names of
 * different keys differ (the driver still checks, and refuses the rare collision instead of merging sessions).
 * At most 46 characters, below BIRD's 64.
 *
 * @example
 * protocolName('64501|pdb:ix:26|192.0.2.1|192.0.2.2'); // 'po_AS64501_ix26_' + 16 hex digits
 */
export function protocolName(key: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  const match = NATURAL_KEY.exec(key);
  const readable = match ? `AS${match[1]}_${match[2]}${match[3]}_` : '';
  return `${PROTOCOL_PREFIX}${readable}${hash}`;
}

/** Whether `name` is one the driver could have made (a file or protocol of ours). */
export function isManagedProtocolName(name: string): boolean {
  return /^po_(AS[0-9]{1,10}_(ix|fac)[0-9]{1,10}_)?[0-9a-f]{16}$/.test(name);
}
