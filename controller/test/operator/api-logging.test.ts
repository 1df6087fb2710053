import type { ResourceCollection } from '../../src/operator/backing/resource-collection.js';
import type { PeeringSession } from '../../src/operator/resources/peering-session.js';
import { Logger } from '../../src/operator/runtime/logger.js';
import { RecordingRouterDriver } from '../../src/router/recording.js';
import { startNetwork, temporaryEmbeddedBacking, tokenOf, type Network } from './support/network.js';

/**
 * The sessions as the operator's informers see them, but failing every labelled list: the queries the API
 * server's session store makes (a store whose disk or API server fails under it).
 */
function failingForTheApi(sessions: ResourceCollection<PeeringSession>): ResourceCollection<PeeringSession> {
  return {
    names: sessions.names,
    get: (namespace, name) => sessions.get(namespace, name),
    list: async (selection) => {
      if (selection?.labels !== undefined) throw new Error('disk I/O error while listing sessions');
      return sessions.list(selection);
    },
    watch: (version, handlers, selection) => sessions.watch(version, handlers, selection),
    create: (object) => sessions.create(object),
    update: (object) => sessions.update(object),
    updateStatus: (object) => sessions.updateStatus(object),
    delete: (namespace, name) => sessions.delete(namespace, name),
  };
}

describe("the operator's Peering API (issue 13)", () => {
  const { backing, cleanup } = temporaryEmbeddedBacking();
  const lines: string[] = [];
  let network: Network | undefined;
  afterAll(async () => {
    await network?.stop();
    cleanup();
  });

  it('logs an internal error in the operator’s JSON log stream, with the request id it answered', async () => {
    network = await startNetwork({
      asn: 64500,
      callers: [64501],
      backing: { ...backing, sessions: failingForTheApi(backing.sessions) },
      router: new RecordingRouterDriver(),
      namespace: 'ns',
      logger: new Logger({ level: 'info', sink: (line) => lines.push(line), fields: { component: 'test' } }),
    });
    const answer = await fetch(`${network.apiUrl}/sessions`, {
      headers: { authorization: `Bearer ${tokenOf(64501)}`, 'x-request-id': 'issue-13-request' },
    });
    expect(answer.status).toBe(500);
    expect(answer.headers.get('x-request-id')).toBe('issue-13-request');
    expect(await answer.json()).toMatchObject({
      errors: [{ code: 'INTERNAL', errors: ['an internal error occurred; it has been logged'] }],
    });

    const logged = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry['reqId'] === 'issue-13-request');
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'internal error',
        component: 'test',
        reqId: 'issue-13-request',
        err: expect.objectContaining({ message: 'disk I/O error while listing sessions' }),
      }),
    ]);
  });
});
