import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabNetwork } from '../../src/demo/two-networks.js';
import type { PeeringSession } from '../../src/operator/resources/peering-session.js';
import type { Router } from '../../src/operator/resources/router.js';
import { API_VERSION } from '../../src/operator/resources/api-group.js';
import { kubectlApply } from '../operator/support/cluster.js';
import { describeKubeLab } from './support/kube-lab.js';
import { CliProcess, requireBuild } from './support/processes.js';
import { onlySession, peeringProtocols, routesFrom, waitFor } from './support/observe.js';

async function sessionOf(network: LabNetwork): Promise<PeeringSession | undefined> {
  const store = network.backing!;
  return onlySession((await store.backing.sessions.list({ namespace: store.namespace })).items);
}

async function routerOf(network: LabNetwork): Promise<Router | undefined> {
  const routers = network.backing!.backing.routers!;
  return routers.get(network.backing!.namespace, `bird-as${network.asn}`);
}

function condition(object: PeeringSession | Router | undefined, type: string) {
  return object?.status?.conditions?.find((c) => c.type === type);
}

// Issue 15: on Kubernetes the operator drives no router itself. Each network declares a Router for its BIRD and
// runs a router agent beside it (as its own ServiceAccount, with the chart's routerAgent rules); the operator
// assigns sessions by local address and reads back what the agents report. Shipped operator timings throughout.
describeKubeLab(
  'Kubernetes with router agents: Router resources, an agent per BIRD, losses that show',
  { routerAgents: true, operatorOptions: { sessions: undefined, queue: undefined, resyncMs: undefined } },
  (lab, plane) => {
    beforeAll(() => requireBuild());

    it('both sides reach Established through their agents; the Routers count them', async () => {
      const { a, b } = lab();
      await lab().apply();
      for (const network of [a, b]) {
        await waitFor(
          async () => (await sessionOf(network))?.status?.bgp?.state === 'established',
          `AS${network.asn} established through its agent`,
          120_000,
        );
        const session = await sessionOf(network);
        expect(session?.status?.router?.name).toBe(`bird-as${network.asn}`);
        expect(session?.status?.routerReport).toMatchObject({
          router: `bird-as${network.asn}`,
          configured: true,
        });
        expect(condition(session, 'Configured')).toMatchObject({ status: 'True' });
      }
      const [protocol] = await peeringProtocols(a.bird);
      await waitFor(async () => (await routesFrom(a.bird, protocol!.name)).length > 0, 'routes from AS64501');

      await waitFor(
        async () => (await routerOf(a))?.status?.sessions?.established === 1,
        'the Router counts the established session',
        20_000,
      );
      const router = await routerOf(a);
      expect(router?.status?.conditions?.find((c) => c.type === 'RouterConnected')).toMatchObject({
        status: 'True',
        reason: 'AgentHeartbeat',
      });
      await waitFor(
        async () =>
          condition(await routerOf(a), 'Ready')?.message ===
          'sessions: 1 assigned, 1 configured, 1 established',
        'the Router Ready with its counts',
        20_000,
      );
      expect(condition(await routerOf(a), 'Ready')?.status).toBe('True');
      const namespace = a.backing!.namespace;
      const wide = await plane().kubectl(['get', 'psess', '-n', namespace, '-o', 'wide']);
      expect(wide.stdout).toMatch(/ROUTER/);
      expect(wide.stdout).toContain('bird-as64500');
      const routers = await plane().kubectl(['get', 'routers', '-n', namespace]);
      expect(routers.stdout).toMatch(/bird-as64500\s+bird\s+True\s+1\s+1\s+1/);
    }, 240_000);

    it('BGP taken down on AS64501’s BIRD shows on both sides within 15 s, and comes back', async () => {
      const { a, b } = lab();
      const [protocol] = await peeringProtocols(b.bird);
      const started = performance.now();
      await b.bird.birdc(`disable ${protocol!.name}`);
      for (const network of [a, b]) {
        await waitFor(
          async () => (await sessionOf(network))?.status?.bgp?.state !== 'established',
          `AS${network.asn} not established`,
          30_000,
        );
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `[router-agents] disabled on AS64501's BIRD → both resources not established: ${seconds.toFixed(1)} s`,
      );
      expect(seconds).toBeLessThanOrEqual(15);
      await b.bird.birdc(`enable ${protocol!.name}`);
      for (const network of [a, b]) {
        await waitFor(
          async () => (await sessionOf(network))?.status?.bgp?.state === 'established',
          `AS${network.asn} established again`,
          60_000,
        );
      }
    }, 120_000);

    it('a lost agent shows as RouterConnected=False and BGP unknown within 30 s; a new agent takes over', async () => {
      const { b } = lab();
      const started = performance.now();
      await b.agent!.kill();
      await waitFor(
        async () => {
          const connected = (await routerOf(b))?.status?.conditions?.find(
            (c) => c.type === 'RouterConnected',
          );
          const session = await sessionOf(b);
          return connected?.status === 'False' && session?.status?.bgp?.state === 'unknown';
        },
        'the Router disconnected and its session unknown',
        40_000,
      );
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `[router-agents] agent killed → RouterConnected=False and BGP unknown: ${seconds.toFixed(1)} s`,
      );
      expect(seconds).toBeLessThanOrEqual(30);
      const router = await routerOf(b);
      expect(router?.status?.conditions?.find((c) => c.type === 'RouterConnected')?.reason).toBe('AgentLost');
      const session = await sessionOf(b);
      expect(session?.status?.bgp?.lastError).toMatch(/agent of Router bird-as64501 last reported/);
      expect(condition(session, 'Established')).toMatchObject({ status: 'Unknown', reason: 'AgentLost' });
      // BGP itself never depended on the agent.
      expect((await peeringProtocols(b.bird))[0]?.info).toMatch(/^Established/);

      // The new agent is `peering-operator router-agent`, as a router host runs it: its own process, a kubeconfig
      // for the agent's ServiceAccount, BIRD's socket and folder.
      const namespace = b.backing!.namespace;
      const kubeconfig = join(lab().workDir, 'router-agent.kubeconfig');
      writeFileSync(
        kubeconfig,
        (await plane().serviceAccountKubeConfig(namespace, 'peering-router-agent')).exportConfig(),
        { mode: 0o600 },
      );
      const cli = new CliProcess(
        [
          'router-agent',
          '--router',
          `bird-as${b.asn}`,
          '--namespace',
          namespace,
          '--kubeconfig',
          kubeconfig,
          '--identity',
          'router-host-b',
          '--driver',
          'bird',
          '--bird-socket',
          b.bird.socketPath,
          '--bird-include-dir',
          b.bird.includeDir,
          '--bird-session-defaults',
          join(b.dir, 'bird-sessions.yaml'),
        ],
        join(lab().workDir, 'router-agent.log'),
      ).start();
      try {
        await waitFor(
          async () => (await sessionOf(b))?.status?.bgp?.state === 'established',
          'established again under the agent process',
          30_000,
        );
        expect((await routerOf(b))?.status?.agent?.identity).toBe('router-host-b');
      } finally {
        await cli.kill('SIGTERM');
      }
      expect(await cli.exited()).toEqual({ code: 0, signal: null });
      expect(condition(await routerOf(b), 'RouterConnected')).toMatchObject({
        status: 'False',
        reason: 'AgentStopped',
        message: 'agent router-host-b stopped',
      });

      await b.startAgent();
      await waitFor(
        async () => (await sessionOf(b))?.status?.bgp?.state === 'established',
        'established again under the in-process agent',
        30_000,
      );
    }, 120_000);

    it('an agent stopped gracefully says so on its Router: its session is unknown within seconds', async () => {
      const { a } = lab();
      const started = performance.now();
      await a.agent!.stop();
      const router = await routerOf(a);
      expect(router?.status?.conditions?.find((c) => c.type === 'RouterConnected')).toMatchObject({
        status: 'False',
        reason: 'AgentStopped',
      });
      await waitFor(
        async () => (await sessionOf(a))?.status?.bgp?.state === 'unknown',
        'AS64500 unknown after its agent stopped',
        10_000,
      );
      console.log(
        `[router-agents] agent stopped → BGP unknown: ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(condition(await routerOf(a), 'Ready')).toMatchObject({
        status: 'False',
        reason: 'AgentStopped',
      });
      await a.startAgent();
      await waitFor(
        async () => (await sessionOf(a))?.status?.bgp?.state === 'established',
        'AS64500 established again',
        30_000,
      );
      await waitFor(
        async () => condition(await routerOf(a), 'Ready')?.status === 'True',
        'the Router Ready again',
        10_000,
      );
    }, 60_000);

    it('refuses bad Routers: kubectl names the field; what only the operator checks shows in Ready', async () => {
      const { a } = lab();
      const namespace = a.backing!.namespace;
      const apply = (name: string, spec: Record<string, unknown>) =>
        kubectlApply(plane(), [
          { apiVersion: API_VERSION, kind: 'Router', metadata: { name, namespace }, spec },
        ]);
      await expect(apply('bad-address', { driver: 'bird', addresses: ['edge1'] })).rejects.toThrow(
        /spec\.addresses\[0\].*must be an IPv4 or IPv6 address or prefix/,
      );
      await expect(
        apply('bad-hold', { driver: 'bird', addresses: ['192.0.2.1'], timers: { hold: 2 } }),
      ).rejects.toThrow(/hold must be 0 or 3-65535/);
      await expect(apply('bad-driver', { driver: 'quagga', addresses: ['192.0.2.1'] })).rejects.toThrow(
        /spec\.driver.*Unsupported value/,
      );
      // Upper-case IPv6 passes the API server's isIP(); the operator wants canonical text and says so.
      await apply('upper-case', { driver: 'bird', addresses: ['2001:DB8::1'] });
      await waitFor(
        async () =>
          condition(await a.backing!.backing.routers!.get(namespace, 'upper-case'), 'Ready')?.reason ===
          'InvalidSpec',
        'Ready=False InvalidSpec',
        15_000,
      );
      const ready = condition(await a.backing!.backing.routers!.get(namespace, 'upper-case'), 'Ready');
      expect(ready?.message).toMatch(/addresses.*canonical/);
      await plane().kubectl(['delete', 'router', 'upper-case', '-n', namespace]);
    }, 60_000);

    it('a session no Router speaks from says NoRouter, naming its address, and BGP is left alone', async () => {
      const { b } = lab();
      const namespace = b.backing!.namespace;
      await plane().kubectl(['delete', 'router', `bird-as${b.asn}`, '-n', namespace]);
      await waitFor(
        async () => condition(await sessionOf(b), 'Configured')?.reason === 'NoRouter',
        'Configured=False NoRouter',
        30_000,
      );
      const configured = condition(await sessionOf(b), 'Configured');
      expect(configured?.status).toBe('False');
      expect(configured?.message).toContain(b.plan.address);
      expect((await sessionOf(b))?.status?.router).toBeUndefined();
      // The agent changes nothing while its Router is gone: a Router deleted by mistake takes no session down.
      await new Promise((r) => setTimeout(r, 3_000));
      expect((await peeringProtocols(b.bird))[0]?.info).toMatch(/^Established/);
    }, 60_000);
  },
);
