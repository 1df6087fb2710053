import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReplyDecoder, type BirdReply } from '../../src/router/bird/control-socket.js';
import { observedSession } from '../../src/router/bird/bird-driver.js';
import {
  parseBirdTime,
  parseShowProtocols,
  type BirdProtocolStatus,
} from '../../src/router/bird/show-protocols.js';

// Real BIRD 2.0.12 output, captured by fixtures/capture.mjs from two daemons with sessions in every state.
const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string) => readFileSync(join(fixtures, name), 'utf8');

function decode(transcript: string): BirdReply[] {
  return new ReplyDecoder().push(transcript);
}

function byName(protocols: BirdProtocolStatus[]): Map<string, BirdProtocolStatus> {
  return new Map(protocols.map((p) => [p.name, p]));
}

describe('ReplyDecoder on real control-socket transcripts', () => {
  it('cuts a transcript into one reply whatever the chunk boundaries', () => {
    const transcript = fixture('show-protocols-all-a.reply');
    const whole = decode(transcript);
    expect(whole).toHaveLength(1);
    expect(whole[0]?.code).toBe(0);
    for (const size of [1, 7, 4096]) {
      const decoder = new ReplyDecoder();
      const replies: BirdReply[] = [];
      for (let i = 0; i < transcript.length; i += size)
        replies.push(...decoder.push(transcript.slice(i, i + size)));
      expect(replies).toEqual(whole);
    }
  });

  it('gives continuation lines the code of the line they continue, without the leading space', () => {
    const [reply] = decode(fixture('show-protocols-a.reply'));
    expect(reply?.lines[0]).toEqual({ code: 2002, text: expect.stringMatching(/^Name\s+Proto/) });
    const established = reply?.lines.find((line) => line.text.startsWith('po_established'));
    expect(established?.code).toBe(1002);
  });

  it('reads the final code of configure check, both ways', () => {
    expect(decode(fixture('configure-check-ok.reply'))[0]?.code).toBe(20);
    const [error] = decode(fixture('configure-check-error.reply'));
    expect(error?.code).toBe(8002);
    expect(error?.lines[1]?.text).toMatch(/a\.conf:\d+:\d+ syntax error/);
  });

  it('reads "no protocols match" as its own code', () => {
    expect(decode(fixture('show-protocols-all-pattern-none.reply'))[0]?.code).toBe(8003);
  });
});

describe('parseShowProtocols on real BIRD output', () => {
  const now = new Date(2026, 10, 27, 13, 0, 0);
  const reply = decode(fixture('show-protocols-all-a.reply'))[0];
  const protocols = byName(parseShowProtocols(reply?.lines ?? [], now));

  it('finds every protocol, BGP or not, in order', () => {
    expect([...protocols.keys()]).toEqual([
      'device1',
      'announce4',
      'announce6',
      'po_established',
      'po_active',
      'po_badas',
      'po_roles',
      'po_md5',
      'po_limit',
      'po_v6',
      'po_passive',
      'po_disabled',
    ]);
    expect(protocols.get('announce4')).toMatchObject({
      proto: 'Static',
      state: 'up',
      channels: [{ name: 'ipv4' }],
    });
  });

  it('reads an established session: state, since, neighbour, description, routes in both directions', () => {
    const session = protocols.get('po_established');
    expect(session).toMatchObject({
      proto: 'BGP',
      state: 'up',
      bgpState: 'Established',
      info: 'Established',
      description: '64501|pdb:ix:1|127.0.0.2|127.0.0.3 po_established',
      neighborAddress: '127.0.0.3',
      neighborAs: 64501,
      localAs: 64500,
      channels: [
        {
          name: 'ipv4',
          state: 'UP',
          importLimit: 100,
          routes: { imported: 3, filtered: 0, exported: 1, preferred: 3 },
        },
      ],
    });
    expect(session?.lastError).toBeUndefined();
    // `timeformat protocol iso long`: a full local date and time.
    expect(session?.sinceText).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const [date, time] = (session?.sinceText ?? '').split(' ');
    const [y, mo, d] = (date ?? '').split('-').map(Number);
    const [h, mi, s] = (time ?? '').split(':').map(Number);
    expect(session?.since).toEqual(new Date(y ?? 0, (mo ?? 0) - 1, d, h, mi, s));
  });

  it('reads an IPv6 session from its ipv6 channel', () => {
    expect(protocols.get('po_v6')).toMatchObject({
      bgpState: 'Established',
      neighborAddress: '::1',
      channels: [{ name: 'ipv6', routes: { exported: 1 } }],
    });
  });

  it('reads the last error of sessions that are not up', () => {
    expect(protocols.get('po_active')).toMatchObject({
      state: 'start',
      bgpState: 'Active',
      lastError: 'Socket: Connection refused',
      info: 'Active        Socket: Connection refused',
    });
    expect(protocols.get('po_badas')?.lastError).toMatch(/Bad peer AS/);
    expect(protocols.get('po_roles')?.lastError).toMatch(/Role mismatch/);
    expect(protocols.get('po_limit')).toMatchObject({
      state: 'down',
      bgpState: 'Down',
      lastError: 'Automatic shutdown: Route limit exceeded',
    });
  });

  it('reads a session whose MD5 secret does not match: no error, never past Connect/Active', () => {
    const md5 = protocols.get('po_md5');
    expect(md5?.state).toBe('start');
    expect(['Connect', 'Active', 'Idle']).toContain(md5?.bgpState);
  });

  it('reads a disabled session (long name shifting the columns) as down without error', () => {
    expect(protocols.get('po_disabled')).toMatchObject({
      state: 'down',
      bgpState: 'Down',
      info: '',
      neighborAs: 64503,
    });
    expect(protocols.get('po_disabled')?.lastError).toBeUndefined();
  });

  it('reads the same from birdc text (no reply codes) as from the socket', () => {
    const text = parseShowProtocols(fixture('show-protocols-all-a.birdc.txt').split('\n'), now);
    expect(text.map((p) => [p.name, p.proto, p.bgpState, p.neighborAs, p.channels.length])).toEqual(
      [...protocols.values()].map((p) => [p.name, p.proto, p.bgpState, p.neighborAs, p.channels.length]),
    );
  });

  it('reads the short listing (show protocols) from the summary lines alone', () => {
    const short = byName(parseShowProtocols(decode(fixture('show-protocols-a.reply'))[0]?.lines ?? [], now));
    expect(short.size).toBe(12);
    expect(short.get('po_established')).toMatchObject({ state: 'up', info: 'Established' });
    expect(short.get('po_established')?.bgpState).toBeUndefined();
    expect(short.get('po_active')?.info).toBe('Active        Socket: Connection refused');
    expect(short.get('po_limit')?.info).toBe('Automatic shutdown: Route limit exceeded');
  });

  it('reads times of day of the default timeformat relative to now', () => {
    const b = decode(fixture('show-protocols-all-b-default-timeformat.reply'))[0]?.lines ?? [];
    const toA = byName(parseShowProtocols(b, now)).get('to_a');
    expect(toA?.sinceText).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3}$/);
    expect(toA?.since?.getDate()).toBe(27);
    // Read just after midnight, a time of day later than now was yesterday.
    const nextDay = byName(parseShowProtocols(b, new Date(2026, 10, 28, 0, 5))).get('to_a');
    expect(nextDay?.since?.getDate()).toBe(27);
    expect(byName(parseShowProtocols(b, now)).get('to_badas')?.lastError).toMatch(/Bad peer AS/);
  });

  it('never takes text inside a protocol’s details for a protocol of its own', () => {
    // A peer controls some text BIRD prints (a shutdown message); a line break in it must not forge a protocol.
    const forged = fixture('show-protocols-all-a.reply').replace(
      '     Last error:       Socket: Connection refused\n',
      '     Last error:       Socket: Connection refused\npo_forged  BGP  ---  up  2026-11-27 12:00:00  Established\n',
    );
    const names = parseShowProtocols(decode(forged)[0]?.lines ?? [], now).map((p) => p.name);
    expect(names).not.toContain('po_forged');
    expect(names).toHaveLength(12);
  });

  it('skips lines it does not know rather than failing', () => {
    const lines = [
      'Name       Proto      Table      State  Since         Info',
      'x',
      '   stray detail: 1',
      '',
    ];
    expect(parseShowProtocols(lines, now)).toEqual([]);
  });
});

describe('observedSession: BIRD words to BGP states', () => {
  const now = new Date(2026, 10, 27, 13, 0, 0);
  const observe = (name: string, lines: BirdReply['lines']) => {
    const protocol = parseShowProtocols(lines, now).find((p) => p.name === name);
    if (!protocol) throw new Error(`no ${name} in fixture`);
    return observedSession('key', protocol);
  };
  const all = decode(fixture('show-protocols-all-a.reply'))[0]?.lines ?? [];
  const short = decode(fixture('show-protocols-a.reply'))[0]?.lines ?? [];

  it.each([
    ['po_established', 'established', undefined],
    ['po_v6', 'established', undefined],
    ['po_active', 'active', 'Socket: Connection refused'],
    ['po_passive', 'active', undefined],
    ['po_limit', 'down', 'Automatic shutdown: Route limit exceeded'],
    ['po_disabled', 'down', undefined],
    ['announce4', 'unknown', undefined],
  ])('%s is %s (error: %s), from the details and from the summary alone', (name, state, lastError) => {
    for (const lines of [all, short]) {
      const observed = observe(name, lines);
      expect(observed.state).toBe(state);
      expect(observed.lastError).toBe(lastError);
    }
  });

  it('reads errors BIRD gives while it waits to retry', () => {
    expect(observe('po_badas', all)).toMatchObject({ lastError: expect.stringMatching(/Bad peer AS/) });
    expect(['idle', 'connect', 'active']).toContain(observe('po_badas', all).state);
    expect(observe('po_md5', all).state).toMatch(/^(connect|active|idle)$/);
  });

  it('adds up routes over channels', () => {
    expect(observe('po_established', all).routes).toEqual({ imported: 3, exported: 1 });
    expect(observe('po_established', short).routes).toEqual({ imported: 0, exported: 0 });
  });
});

describe('parseBirdTime', () => {
  const now = new Date(2026, 10, 27, 13, 0, 0);
  it.each([
    ['2026-11-27 12:07:36', new Date(2026, 10, 27, 12, 7, 36)],
    ['2026-11-27 12:07:36.123', new Date(2026, 10, 27, 12, 7, 36, 123)],
    ['2026-11-20', new Date(2026, 10, 20)],
    ['12:07:36.246', new Date(2026, 10, 27, 12, 7, 36, 246)],
    ['13:30:00', new Date(2026, 10, 26, 13, 30, 0)],
    ['1795000000', new Date(1795000000 * 1000)],
  ])('%s', (text, expected) => {
    expect(parseBirdTime(text, now)).toEqual(expected);
  });
  it('gives undefined for what it cannot read', () => {
    expect(parseBirdTime('Nov27', now)).toBeUndefined();
  });
});
