import { isIPv4 } from 'node:net';
import { parseIpAddress } from '../../domain/ip.js';
import { quoted } from './render.js';

export interface BaseConfigOptions {
  /** BIRD's router id, an IPv4 address unique among the routers that peer. */
  routerId: string;
  /** The driver's directory; the configuration includes every `*.conf` in it. */
  includeDir: string;
  /**
   * Prefixes this router originates (as static blackhole routes in protocols `announce4`/`announce6`). For demos
   * and tests: a real network originates its routes from its own IGP or static configuration.
   */
  announce?: readonly string[];
  /** Filter definitions, verbatim BIRD: the operator's own configuration, trusted as such. */
  filters?: string;
  /** Log file; default: standard error. */
  logFile?: string;
}

/**
 * A complete BIRD 2 main configuration around the driver's include directory, for the demo, the tests and as the
 * starting point docs/router-bird.md describes. Production routers keep their own main configuration and add the
 * `include` line (and `timeformat protocol iso long ms;` for exact since-times).
 *
 * @example
 * renderBaseConfig({ routerId: '127.0.0.2', includeDir: '/var/lib/peering/bird.d', announce: ['198.51.100.0/24'] });
 */
export function renderBaseConfig(options: BaseConfigOptions): string {
  if (!isIPv4(options.routerId))
    throw new RangeError(`router id must be an IPv4 address: ${options.routerId}`);
  const v4: string[] = [];
  const v6: string[] = [];
  for (const prefix of options.announce ?? []) {
    const [address = '', length = ''] = prefix.split('/');
    const parsed = parseIpAddress(address);
    if (typeof parsed === 'string' || !/^\d{1,3}$/.test(length))
      throw new RangeError(`not a prefix: ${prefix}`);
    if (Number(length) > (parsed.family === 'ipv4' ? 32 : 128))
      throw new RangeError(`not a prefix: ${prefix}`);
    (parsed.family === 'ipv4' ? v4 : v6).push(`  route ${parsed.address}/${Number(length)} blackhole;`);
  }
  return [
    '# BIRD 2 main configuration written by peering-operator.',
    `router id ${options.routerId};`,
    // Full dates in `show protocols`: the driver reports since when a session is in its state.
    'timeformat protocol iso long ms;',
    options.logFile === undefined ? 'log stderr all;' : `log ${quoted(options.logFile)} all;`,
    'protocol device {}',
    ...(v4.length > 0 ? ['protocol static announce4 {', '  ipv4;', ...v4, '}'] : []),
    ...(v6.length > 0 ? ['protocol static announce6 {', '  ipv6;', ...v6, '}'] : []),
    options.filters ?? '',
    `include ${quoted(`${options.includeDir.replace(/\/+$/, '')}/*.conf`)};`,
    '',
  ].join('\n');
}
