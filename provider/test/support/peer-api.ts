import { startTestApi, type TestApi } from '../../../controller/test/support/api-server.js';
import { startTestIssuer, type TestIssuer } from '../../../controller/test/support/issuer.js';
import { CLOUDFLARE, GOOGLE } from './ams-ix.js';

/** A session as the peer's API lists it (wire reading: `local_*` is the peer, Google). */
export interface ListedSession {
  session_id: string;
  local_asn: number;
  local_ip: string;
  peer_asn: number;
  peer_ip: string;
  status: string;
  location: { id: string };
}

/**
 * Google's side for the Terraform tests: our real Peering API server on loopback as AS15169, reading the real
 * PeeringDB sample, trusting JWTs from the local test issuer; and a JWT for Cloudflare (AS13335), the network
 * that runs Terraform.
 */
export interface PeerApi {
  api: TestApi;
  issuer: TestIssuer;
  /** The API base URL, base path included: what `apiUrl` props point at. */
  url: string;
  /** A bearer token acting for AS13335. */
  token: string;
  /** All sessions of AS13335 with Google, as the server lists them. */
  sessions(): Promise<ListedSession[]>;
  /** The HTTP status of `GET /sessions/{id}`. */
  statusOf(sessionId: string): Promise<number>;
  /** The listed session between the two addresses (Cloudflare's, Google's), if any. */
  find(cloudflareIp: string, googleIp: string): Promise<ListedSession | undefined>;
  stop(): Promise<void>;
}

export async function startPeerApi(peeringDbDir: string): Promise<PeerApi> {
  const issuer = await startTestIssuer();
  let api: TestApi | undefined;
  try {
    api = await startTestApi({
      config: { asns: [GOOGLE.asn], auth: { issuers: [issuer.issuers.jwt] } },
      peeringDbDir,
    });
  } catch (error) {
    await issuer.stop();
    throw error;
  }
  const running = api;
  // startTestApi's configured public URL is the audience its JWT verifier expects.
  const token = await issuer.jwtFor(CLOUDFLARE.asn, 'http://127.0.0.1/v0.1');
  const headers = { authorization: `Bearer ${token}` };
  const sessions = async (): Promise<ListedSession[]> => {
    const out: ListedSession[] = [];
    let next: string | undefined;
    do {
      const query = new URLSearchParams({
        asn: String(CLOUDFLARE.asn),
        ...(next ? { next_token: next } : {}),
      });
      const response = await fetch(`${running.baseUrl}/sessions?${query}`, { headers });
      if (!response.ok) throw new Error(`GET /sessions: ${response.status} ${await response.text()}`);
      const body = (await response.json()) as { sessions: ListedSession[]; next_token?: string };
      out.push(...body.sessions);
      next = body.next_token;
    } while (next);
    return out;
  };
  return {
    api: running,
    issuer,
    url: running.baseUrl,
    token,
    sessions,
    async statusOf(sessionId) {
      const response = await fetch(`${running.baseUrl}/sessions/${sessionId}`, { headers });
      await response.arrayBuffer();
      return response.status;
    },
    async find(cloudflareIp, googleIp) {
      return (await sessions()).find((s) => s.peer_ip === cloudflareIp && s.local_ip === googleIp);
    },
    async stop() {
      try {
        await running.stop();
      } finally {
        await issuer.stop();
      }
    },
  };
}
