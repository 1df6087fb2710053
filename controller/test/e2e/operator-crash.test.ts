import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  bindable,
  freePort,
  startTwoNetworks,
  type LabNetwork,
  type TwoNetworks,
} from '../../src/demo/two-networks.js';
import { embeddedBacking } from '../../src/operator/backing/backing.js';
import type { PeeringSession } from '../../src/operator/resources/peering-session.js';
import { describeWithBird } from '../support/bird.js';
import { EXAMPLES_DIR } from '../support/sample.js';
import { peeringProtocols, protocolTo, sessionsAt, waitFor } from './support/observe.js';
import { CliProcess, httpGet, requireBuild, sample } from './support/processes.js';

// Each network's operator as a process of its own (`peering-operator run --standalone`, from dist/), killed with
// SIGKILL: once by its own crash hook right after its POST reached the peer, once while established. Nothing may
// be lost: one session at the peer, the same session id on both sides, BGP established again, de-peering works.
describeWithBird('end to end, operators as processes killed with SIGKILL: nothing is lost', () => {
  let workDir: string;
  let lab: TwoNetworks;
  const operators = new Map<number, { process: CliProcess; health: string }>();

  /** A snapshot of a network's store, read from its SQLite file beside the running operator. */
  const storedSessions = async (network: LabNetwork): Promise<PeeringSession[]> => {
    const backing = embeddedBacking(join(network.dir, 'store'));
    try {
      return (await backing.sessions.list()).items;
    } finally {
      await backing.close();
    }
  };

  const startOperator = async (network: LabNetwork, env: Record<string, string> = {}) => {
    let entry = operators.get(network.asn);
    if (!entry) {
      const port = await freePort(['127.0.0.1']);
      const health = `127.0.0.1:${port}`;
      entry = { process: new CliProcess(network.runArgs(health), join(network.dir, 'operator.log')), health };
      operators.set(network.asn, entry);
    }
    entry.process.start(env);
    return entry;
  };
  const ready = async (network: LabNetwork) => {
    const entry = operators.get(network.asn);
    await waitFor(
      async () => (await httpGet(`http://${entry?.health}/readyz`))?.status === 200,
      `AS${network.asn}'s operator ready (log:\n${entry?.process.log().slice(-2000)})`,
      30_000,
    );
  };
  const metric = async (network: LabNetwork, series: string) => {
    const answer = await httpGet(`http://${operators.get(network.asn)?.health}/metrics`);
    return answer?.status === 200 ? sample(answer.body, series) : undefined;
  };
  const established = (direction: string) =>
    `peering_operator_sessions{direction="${direction}",state="established"}`;
  const bgpEstablished = async () => {
    const [a, b] = await Promise.all([protocolTo(lab.a.bird, lab.b.asn), protocolTo(lab.b.bird, lab.a.asn)]);
    return a?.bgpState === 'Established' && b?.bgpState === 'Established' && ([a, b] as const);
  };
  const requestFile = () => join(lab.a.manifestsDir, 'as64501.yaml');

  beforeAll(async () => {
    requireBuild();
    workDir = mkdtempSync(join(tmpdir(), 'po-e2e-crash-'));
    lab = await startTwoNetworks({ workDir, examplesDir: EXAMPLES_DIR, operators: 'none' });
    await startOperator(lab.b);
    await ready(lab.b);
  }, 60_000);
  afterAll(async () => {
    for (const { process } of operators.values()) await process.kill('SIGTERM');
    await lab?.stop();
    if (process.env.PEERING_E2E_KEEP === '1') console.log(`kept ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  });

  it('killed right after its POST reached the peer, the restarted operator finds the answer: one session, established', async () => {
    // The crash hook of `peering-operator run` SIGKILLs the process between the POST and recording its answer.
    const a = await startOperator(lab.a, { PEERING_OPERATOR_CRASH_AT: 'afterPost' });
    await ready(lab.a);
    // The credentials (client secret and DPoP key) in a file of their own: de-peering needs them after the
    // request's file is gone.
    writeFileSync(
      join(lab.a.manifestsDir, 'peer-token.yaml'),
      stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: lab.tokenSecret, namespace: 'default' },
        stringData: await lab.tokenSecretData(),
      }),
    );
    writeFileSync(requestFile(), stringify(lab.peeringRequest()));
    expect(await a.process.exited()).toEqual({ code: null, signal: 'SIGKILL' });
    const recorded = await sessionsAt(lab.b, lab.a);
    expect(recorded).toHaveLength(1);

    await startOperator(lab.a);
    await ready(lab.a);
    await waitFor(bgpEstablished, 'BGP Established on both BIRDs', 60_000);
    await waitFor(
      async () => (await metric(lab.a, established('Outbound'))) === 1,
      "AS64500's operator counting its session established",
      60_000,
    );
    const atPeer = await sessionsAt(lab.b, lab.a);
    expect(atPeer).toHaveLength(1);
    expect(atPeer[0]).toMatchObject({ sessionId: recorded[0]?.sessionId, status: 'established' });
    const ours = await storedSessions(lab.a);
    expect(ours.map((s) => s.spec.sessionId)).toEqual([recorded[0]?.sessionId]);
  }, 120_000);

  it('killed while established, each operator comes back to the same sessions; BGP never notices', async () => {
    const [before] = (await waitFor(bgpEstablished, 'BGP Established')) as unknown as [
      { since?: Date; name: string },
    ];
    const sessionsBefore = {
      a: (await storedSessions(lab.a)).map((s) => [s.spec.sessionId, s.status?.state]),
      b: (await storedSessions(lab.b)).map((s) => [s.spec.sessionId, s.status?.state]),
    };
    expect(sessionsBefore.a).toEqual([[expect.any(String), 'established']]);

    for (const network of [lab.a, lab.b]) {
      const entry = operators.get(network.asn);
      await entry?.process.kill('SIGKILL');
      expect(await entry?.process.exited()).toMatchObject({ signal: 'SIGKILL' });
    }
    // The routers run on without their operators: past BGP's hold time (3 s) the session is still up.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(await bgpEstablished()).toBeTruthy();
    // A killed process leaves its API port to be taken again at once.
    expect(await bindable(['127.0.0.1'], lab.b.apiPort)).toBe(true);

    await startOperator(lab.b);
    await startOperator(lab.a);
    await Promise.all([ready(lab.a), ready(lab.b)]);
    await waitFor(
      async () =>
        (await metric(lab.a, established('Outbound'))) === 1 &&
        (await metric(lab.b, established('Inbound'))) === 1,
      'both operators counting their session established again',
      60_000,
    );
    expect((await storedSessions(lab.a)).map((s) => [s.spec.sessionId, s.status?.state])).toEqual(
      sessionsBefore.a,
    );
    expect((await storedSessions(lab.b)).map((s) => [s.spec.sessionId, s.status?.state])).toEqual(
      sessionsBefore.b,
    );
    const atPeer = await sessionsAt(lab.b, lab.a);
    expect(atPeer.map((s) => [s.sessionId, s.status])).toEqual(sessionsBefore.a);
    // The restarted operators reloaded BIRD with what it already ran: the session did not flap.
    const after = await protocolTo(lab.a.bird, lab.b.asn);
    expect(after?.name).toBe(before.name);
    // BIRD prints `since` by converting its monotonic clock to wall time at each `show protocols`, with a
    // time it caches per event-loop turn: the same instant reads a few ms apart, and 31 ms apart was seen under a
    // loaded CI machine. A flap moves it by more than a second: the lab's error wait and connect delay are 1 s each.
    expect(Math.abs((after?.since?.getTime() ?? 0) - (before.since?.getTime() ?? Infinity))).toBeLessThan(
      500,
    );
  }, 120_000);

  it('the restarted operators still de-peer: removing the manifest takes the session off both BIRDs', async () => {
    rmSync(requestFile());
    await waitFor(
      async () =>
        (await peeringProtocols(lab.a.bird)).length === 0 &&
        (await peeringProtocols(lab.b.bird)).length === 0,
      'no peering protocol left in either BIRD',
      60_000,
    );
    expect(await sessionsAt(lab.b, lab.a)).toEqual([]);
  }, 90_000);
});
