import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeeringError } from '../../src/domain/errors.js';
import { validateDesiredSession, type DesiredSession } from '../../src/router/driver.js';
import { renderBaseConfig } from '../../src/router/bird/base-config.js';
import { BIRD_SYMBOL_MAX, isManagedProtocolName, protocolName } from '../../src/router/bird/names.js';
import { renderSession } from '../../src/router/bird/render.js';
import { TEST_FILTERS, birdBinaryPath, describeWithBird } from '../support/bird.js';

const base: DesiredSession = {
  key: '64501|pdb:ix:26|192.0.2.1|192.0.2.2',
  localAsn: 64500,
  localIp: '192.0.2.1',
  peerAsn: 64501,
  peerIp: '192.0.2.2',
};

function rejection(session: DesiredSession): PeeringError {
  const result = validateDesiredSession(session);
  if (!(result instanceof PeeringError)) throw new Error(`accepted: ${JSON.stringify(session)}`);
  return result;
}

describe('protocol names', () => {
  it('are stable, readable, plain BIRD identifiers within the symbol limit', () => {
    const name = protocolName(base.key);
    expect(name).toBe(protocolName(base.key));
    expect(name).toMatch(/^po_AS64501_ix26_[0-9a-f]{16}$/);
    const longest = protocolName('4294967295|pdb:fac:4294967295|2001:db8::1|2001:db8::2');
    expect(longest.length).toBeLessThanOrEqual(BIRD_SYMBOL_MAX);
    expect(isManagedProtocolName(longest)).toBe(true);
  });

  it('differ for every one of 100,000 keys that differ only in an address', () => {
    const names = new Set<string>();
    for (let i = 0; i < 100_000; i++)
      names.add(protocolName(`64501|pdb:ix:26|10.${i >> 16}.${(i >> 8) & 255}.${i & 255}|192.0.2.2`));
    expect(names.size).toBe(100_000);
  });

  it('are plain identifiers even for keys that are not natural keys', () => {
    expect(protocolName('anything at all; import all')).toMatch(/^po_[0-9a-f]{16}$/);
  });
});

describe('rendering', () => {
  it('renders import none / export none when no filter is named: nothing leaks by default', () => {
    const text = renderSession(base, { strictBind: true });
    expect(text).toContain('    import none;\n    export none;\n');
    expect(text).not.toMatch(/import all|export all/);
    expect(text).toContain(`protocol bgp ${protocolName(base.key)} {`);
    expect(text).toContain(
      '  local 192.0.2.1 as 64500;\n  neighbor 192.0.2.2 as 64501;\n  strict bind on;\n',
    );
    expect(text).toContain('  ipv4 {');
  });

  it('renders secret, role, max-prefix, filters, timers, ports, passive and multihop', () => {
    const text = renderSession(
      {
        ...base,
        name: 'session 3f1c',
        secret: 'pa$$ w0rd!',
        localRole: 3,
        peerRole: 0,
        requireRoles: true,
        maxPrefixes: 120,
        importFilter: 'peer_in',
        exportFilter: 'peer_out',
        timers: { hold: 9, keepalive: 3, connectRetry: 5, connectDelay: 2, errorWaitMin: 1, errorWaitMax: 4 },
        passive: true,
        localPort: 1790,
        peerPort: 1791,
        multihop: 2,
      },
      { strictBind: false },
    );
    expect(text).toContain('  description "64501|pdb:ix:26|192.0.2.1|192.0.2.2 session 3f1c";');
    expect(text).toContain('  local 192.0.2.1 port 1790 as 64500;');
    expect(text).toContain('  neighbor 192.0.2.2 port 1791 as 64501;');
    expect(text).not.toContain('strict bind');
    expect(text).toContain('  password "pa$$ w0rd!";');
    expect(text).toContain('  local role customer;\n  require roles on;');
    expect(text).toContain('  passive on;');
    expect(text).toContain('  multihop 2;');
    expect(text).toContain(
      '  hold time 9;\n  keepalive time 3;\n  connect retry time 5;\n  connect delay time 2;',
    );
    expect(text).toContain('  error wait time 1, 4;');
    expect(text).toContain(
      '    import filter peer_in;\n    export filter peer_out;\n    import limit 120 action restart;',
    );
  });

  it('renders an IPv6 session in the ipv6 channel, from the source address when one is given', () => {
    const text = renderSession(
      { ...base, key: 'k6', localIp: '2001:db8::1', peerIp: '2001:db8::2', sourceAddress: '2001:db8::9' },
      { strictBind: true },
    );
    expect(text).toContain('  local 2001:db8::9 as 64500;\n  neighbor 2001:db8::2 as 64501;');
    expect(text).toContain('  ipv6 {');
  });

  it('refuses, as a last line of defence, values that skipped validation', () => {
    expect(() => renderSession({ ...base, secret: 'x"; import all; #' }, { strictBind: true })).toThrow(
      RangeError,
    );
    expect(() => renderSession({ ...base, peerIp: '192.0.2.2; import all' }, { strictBind: true })).toThrow(
      RangeError,
    );
    expect(() => renderSession({ ...base, importFilter: 'all; export all' }, { strictBind: true })).toThrow(
      RangeError,
    );
    expect(() => renderSession({ ...base, peerAsn: 1.5 }, { strictBind: true })).toThrow(RangeError);
  });
});

describe('validation of hostile and broken input', () => {
  it.each<[string, Partial<DesiredSession>, string]>([
    ['a secret that closes its string', { secret: 'x"; import all; export all; #' }, 'secret'],
    ['a secret with a line break', { secret: 'x\nprotocol bgp evil {}' }, 'secret'],
    ['a secret with a backslash', { secret: 'x\\' }, 'secret'],
    ['a secret longer than TCP MD5 allows', { secret: 'x'.repeat(81) }, 'secret'],
    ['an empty secret', { secret: '' }, 'secret'],
    ['a name that closes the description', { name: 'a"; import all; #' }, 'name'],
    ['a name with non-ASCII', { name: 'caf\u00e9' }, 'name'],
    ['a key with a line break', { key: '64501|x\n}' }, 'key'],
    ['a key with a space', { key: '64501 x' }, 'key'],
    ['a filter that is a statement', { importFilter: 'all; export all' }, 'importFilter'],
    ['a filter with a quote', { exportFilter: '"x"' }, 'exportFilter'],
    ['a peer address with configuration after it', { peerIp: '192.0.2.2; import all' }, 'peerIp'],
    ['a peer address with a prefix length', { peerIp: '192.0.2.2/24' }, 'peerIp'],
    ['an address not in canonical form', { peerIp: '2001:DB8::2', localIp: '2001:db8::1' }, 'peerIp'],
    ['mixed address families', { peerIp: '2001:db8::2' }, 'peerIp'],
    ['the same address twice', { peerIp: '192.0.2.1' }, 'peerIp'],
    ['a fractional ASN', { peerAsn: 64501.5 }, 'peerAsn'],
    ['ASN zero', { localAsn: 0 }, 'localAsn'],
    ['an ASN beyond 32 bits', { peerAsn: 4294967296 }, 'peerAsn'],
    ['an ASN as text', { peerAsn: '64501; import all' as unknown as number }, 'peerAsn'],
    ['roles that are not role-correct', { localRole: 4, peerRole: 3 }, 'peerRole'],
    ['require roles without a role', { requireRoles: true }, 'requireRoles'],
    ['a zero max-prefix', { maxPrefixes: 0 }, 'maxPrefixes'],
    ['a hold time of 2', { timers: { hold: 2 } }, 'timers.hold'],
    ['keepalive not below hold', { timers: { hold: 3, keepalive: 3 } }, 'timers.keepalive'],
    ['an unknown timer', { timers: { holdd: 3 } as never }, 'timers'],
    ['port 0', { localPort: 0 }, 'localPort'],
    ['multihop 1', { multihop: 1 }, 'multihop'],
    ['an unknown field', { extra: 'import all' } as never, 'session'],
  ])('refuses %s, naming the field', (_, change, field) => {
    const error = rejection({ ...base, ...change });
    expect(error.code).toBe('INVALID_FIELD');
    expect(error.field).toMatch(new RegExp(`^sessions\\[[^\\]]+\\]\\.${field.replace('.', '\\.')}`));
  });

  it('accepts what a peering agreement normally holds', () => {
    expect(
      validateDesiredSession({
        ...base,
        secret: 'abc123!#$%&()*+,-./:;<=>?@[]^_`{|}~',
        localRole: 4,
        peerRole: 4,
      }),
    ).not.toBeInstanceOf(Error);
  });
});

describeWithBird('rendered configuration read by BIRD itself (bird -p)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bird-render-'));
    // BIRD refuses an include pattern whose directory does not exist (an empty one is fine).
    mkdirSync(join(dir, 'empty'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function birdParses(sessionsText: string): { ok: boolean; output: string } {
    writeFileSync(join(dir, 'sessions.conf'), sessionsText);
    writeFileSync(
      join(dir, 'bird.conf'),
      `${renderBaseConfig({ routerId: '127.0.0.2', includeDir: join(dir, 'empty'), filters: TEST_FILTERS })}include "${join(dir, 'sessions.conf')}";\n`,
    );
    const result = spawnSync(birdBinaryPath() ?? 'bird', ['-p', '-c', join(dir, 'bird.conf')], {
      encoding: 'utf8',
    });
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  }

  it('parses every option the renderer writes, for both families and every role', () => {
    const sessions: DesiredSession[] = [];
    for (const role of [0, 1, 2, 3, 4] as const) {
      sessions.push({
        ...base,
        key: `6450${role}|pdb:ix:26|192.0.2.1|192.0.2.${10 + role}`,
        peerIp: `192.0.2.${10 + role}`,
        localRole: role,
        requireRoles: role === 4,
        secret: 'pa$$w0rd!#;{}',
        maxPrefixes: 1000,
        importFilter: 'import_all',
        exportFilter: 'export_announced',
        timers: { hold: 3, keepalive: 1, connectRetry: 1, connectDelay: 1, errorWaitMin: 1, errorWaitMax: 2 },
        passive: role % 2 === 0,
        localPort: 1790,
        peerPort: 1790,
        multihop: 2,
        name: 'a name; with {braces} # and a hash',
      });
    }
    sessions.push({
      ...base,
      key: '64501|pdb:fac:1|2001:db8::1|2001:db8::2',
      localIp: '2001:db8::1',
      peerIp: '2001:db8::2',
      maxPrefixes: 50,
    });
    for (const session of sessions) expect(validateDesiredSession(session)).toBe(session);
    const result = birdParses(sessions.map((s) => renderSession(s, { strictBind: true })).join('\n'));
    expect(result).toEqual({ ok: true, output: '' });
  });

  it('really refuses what validation refuses (so the rules are not arbitrary)', () => {
    // BIRD 2 strings have no escapes: a quote inside ends the string, and the rest is configuration.
    const text = renderSession(base, { strictBind: true }).replace(
      'description "',
      'description "x"; import all; #',
    );
    expect(birdParses(renderSession(base, { strictBind: true })).ok).toBe(true);
    expect(birdParses(text).ok).toBe(false);
  });
});
