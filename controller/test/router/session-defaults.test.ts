import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeeringError } from '../../src/domain/errors.js';
import { loadSessionDefaults } from '../../src/router/bird/session-defaults.js';

describe('BIRD session defaults file (peering-operator run --bird-session-defaults)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'po-defaults-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads filters, ports, multihop and timers', async () => {
    const path = file(
      'good.yaml',
      'importFilter: peer_in\nexportFilter: peer_out\nlocalPort: 1790\npeerPort: 1790\nmultihop: 2\ntimers: { hold: 3, keepalive: 1 }\n',
    );
    expect(await loadSessionDefaults(path)).toEqual({
      importFilter: 'peer_in',
      exportFilter: 'peer_out',
      localPort: 1790,
      peerPort: 1790,
      multihop: 2,
      timers: { hold: 3, keepalive: 1 },
    });
  });

  it.each([
    ['a filter name that is a statement', 'importFilter: "all; export all"', 'importFilter'],
    ['a port out of range', 'localPort: 70000', 'localPort'],
    ['keepalive not shorter than hold', 'timers: { hold: 3, keepalive: 3 }', 'timers.keepalive'],
    ['a field sessions do not take as a default', 'secret: hunter2', '(top level)'],
  ])('refuses %s, naming the field', async (_what, text, field) => {
    const path = file(`bad-${field}.yaml`, `${text}\n`);
    const error = await loadSessionDefaults(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PeeringError);
    expect((error as PeeringError).code).toBe('INVALID_CONFIG');
    expect((error as PeeringError).message).toContain(`${field}:`);
  });
});
