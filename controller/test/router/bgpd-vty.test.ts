import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BgpdVty } from '../../src/router/frr/bgpd-vty.js';

// The framing of bgpd's vty socket, against a stand-in that speaks it byte by byte (every answer split across as
// many reads as it has bytes, terminators included). The driver's own tests run the same client against real
// bgpd (router/frr-driver.test.ts); this one pins what real bgpd rarely shows: boundaries in awkward places.
describe('BgpdVty framing', () => {
  let dir: string;
  let server: Server;
  const received: string[] = [];
  /** How the stand-in answers a command: its output and status; `close` hangs up instead. */
  let answer: (command: string) => { output: string; status: number } | 'close' = (command) => ({
    output: command === 'enable' ? '' : `ran ${command}\n`,
    status: command.includes('bogus') ? 2 : 0,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'po-vty-'));
    server = createServer((socket: Socket) => {
      let buffer = '';
      socket.on('data', (chunk) => {
        buffer += chunk.toString('utf8');
        const commands = buffer.split('\0');
        buffer = commands.pop() ?? '';
        const bytes: number[] = [];
        for (const command of commands) {
          received.push(command);
          const reply = answer(command);
          if (reply === 'close') {
            socket.destroy();
            return;
          }
          bytes.push(...Buffer.from(reply.output), 0, 0, 0, reply.status);
        }
        const drip = (i: number) => {
          if (i >= bytes.length || socket.destroyed) return;
          socket.write(Buffer.from([bytes[i]!]), () => setImmediate(() => drip(i + 1)));
        };
        drip(0);
      });
    });
    await new Promise<void>((resolve) => server.listen(join(dir, 'bgpd.vty'), resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => (received.length = 0));

  test('commands are sent after enable and their outputs read back in order, whatever the read boundaries', async () => {
    const vty = new BgpdVty({ vtySocketDir: dir });
    expect(await vty.command('show version', 'show bgp summary')).toBe(
      'ran show version\nran show bgp summary\n',
    );
    expect(received).toEqual(['enable', 'show version', 'show bgp summary']);
  });

  test('a refused command is ROUTER_REJECTED with its words; a script reports each refused line by number', async () => {
    const vty = new BgpdVty({ vtySocketDir: dir });
    await expect(vty.command('bogus')).rejects.toMatchObject({
      code: 'ROUTER_REJECTED',
      message: 'FRR refused "bogus": ran bogus',
    });
    const result = await vty.script('router bgp 64500\n neighbor 192.0.2.1 bogus\n! a comment\n\nexit\n');
    expect(result).toEqual({ ok: false, errors: ['line 2: ran neighbor 192.0.2.1 bogus'] });
    expect(received.slice(-8)).toEqual([
      'enable',
      'configure terminal',
      'XFRR_start_configuration',
      'router bgp 64500',
      'neighbor 192.0.2.1 bogus',
      'exit',
      'XFRR_end_configuration',
      'end',
    ]);
  });

  test('no socket, or a daemon hanging up mid-way, is ROUTER_UNAVAILABLE', async () => {
    await expect(
      new BgpdVty({ vtySocketDir: join(dir, 'nowhere') }).command('show version'),
    ).rejects.toMatchObject({
      code: 'ROUTER_UNAVAILABLE',
      message: expect.stringContaining('ENOENT'),
    });
    const before = answer;
    answer = (command) => (command === 'show bgp summary' ? 'close' : before(command));
    try {
      await expect(
        new BgpdVty({ vtySocketDir: dir }).command('show version', 'show bgp summary'),
      ).rejects.toMatchObject({
        code: 'ROUTER_UNAVAILABLE',
        // A hang-up reads as a close, or as a reset when the kernel still held unread bytes.
        message: expect.stringMatching(/closed after [0-2] of 3 answers|ECONNRESET/),
      });
    } finally {
      answer = before;
    }
  });
});
