import { readFile } from 'node:fs/promises';
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { PeeringError } from '../../domain/errors.js';
import { LocationIdSchema } from '../../domain/location.js';
import { AsnSchema, BgpRoleSchema } from '../../domain/session.js';
import { API_VERSION, PEERING_REQUEST } from '../../operator/resources/api-group.js';
import { PeerApiCredentialsSchema, PeerApiUrlSchema } from '../../operator/resources/peer-api.js';
import {
  MAX_SESSIONS_PER_RESOURCE,
  RequestedSessionSchema,
  type RequestedSession,
} from '../../operator/resources/peering-request.js';
import { fieldPath } from '../../receiver/issues.js';
import type { CandidateSession } from '../../discovery/common-locations.js';

/**
 * The PeeringRequest file `peeringctl request -f` reads: the operator's resource (apiVersion
 * peering.autopeer.dev/v1alpha1, kind PeeringRequest), so one file serves `kubectl apply` and peeringctl. The
 * session items are the operator's own schema; of the spec, peeringctl reads what makes sense without a cluster:
 *
 * ```yaml
 * apiVersion: peering.autopeer.dev/v1alpha1
 * kind: PeeringRequest
 * metadata: { name: as64500 }
 * spec:
 *   localAsn: 64501            # us
 *   peerAsn: 64500             # the network we ask
 *   peerApiUrl: https://peering.example.net/v0.1   # `apiUrl` is accepted too
 *   sessions:                  # explicit sessions, or
 *     - { location: pdb:ix:1, localIp: 192.0.2.2, peerIp: 192.0.2.1 }
 *   # locations: [pdb:ix:1]    # discovered from PeeringDB at these exchanges (all shared ones when neither is given)
 *   # addressFamilies: [ipv4, ipv6]
 * ```
 *
 * `credentials` (a Secret reference) is for the operator and ignored here: peeringctl authenticates with
 * `--token` or `PEERING_API_TOKEN`; likewise a session secret comes from `--secret-env`, not `sessionSecretRef`.
 * Everything of this file format lives in this module, so that it can follow the operator's schema.
 */

const SpecSchema = z
  .object({
    direction: z.literal('Outbound').optional(),
    localAsn: AsnSchema,
    peerAsn: AsnSchema,
    peerApiUrl: PeerApiUrlSchema.optional(),
    apiUrl: PeerApiUrlSchema.optional(),
    credentials: PeerApiCredentialsSchema.optional(),
    sessions: z.array(RequestedSessionSchema).min(1).max(MAX_SESSIONS_PER_RESOURCE).optional(),
    locations: z.array(LocationIdSchema).min(1).max(MAX_SESSIONS_PER_RESOURCE).optional(),
    addressFamilies: z
      .array(z.enum(['ipv4', 'ipv6']))
      .min(1)
      .max(2)
      .default(['ipv4', 'ipv6']),
    sessionDefaults: z
      .object({ localBgpRole: BgpRoleSchema.optional(), peerBgpRole: BgpRoleSchema.optional() })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const fail = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (spec.localAsn === spec.peerAsn) fail(['peerAsn'], 'localAsn and peerAsn must differ');
    if (spec.sessions !== undefined && spec.locations !== undefined) {
      fail(['locations'], 'give either sessions (explicit) or locations (discovered), not both');
    }
    if (spec.apiUrl !== undefined && spec.peerApiUrl !== undefined && spec.apiUrl !== spec.peerApiUrl) {
      fail(['apiUrl'], 'apiUrl and peerApiUrl disagree; give one');
    }
    for (const [i, session] of (spec.sessions ?? []).entries()) {
      if (session.sessionSecretRef !== undefined) {
        fail(
          ['sessions', i, 'sessionSecretRef'],
          'a Secret reference is read by the operator in a cluster; with peeringctl use --secret-env',
        );
      }
      if (session.location.startsWith('pdb:fac:') !== (session.peerType === 'private') && session.peerType) {
        fail(['sessions', i, 'peerType'], 'peerType must be public for pdb:ix:* and private for pdb:fac:*');
      }
    }
  });

const FileSchema = z.object({
  apiVersion: z.literal(API_VERSION, { message: `must be ${API_VERSION}` }),
  kind: z.literal(PEERING_REQUEST.kind, { message: `must be ${PEERING_REQUEST.kind}` }),
  metadata: z.object({ name: z.string().optional() }).loose().optional(),
  spec: SpecSchema,
});

/** What a PeeringRequest file asks for, validated. */
export interface PeeringRequestFile {
  name?: string | undefined;
  localAsn: number;
  peerAsn: number;
  apiUrl?: string | undefined;
  sessions?: RequestedSession[] | undefined;
  locations?: string[] | undefined;
  addressFamilies: ('ipv4' | 'ipv6')[];
  localBgpRole?: number | undefined;
  peerBgpRole?: number | undefined;
}

/** Parses the YAML text of a PeeringRequest; the error names the field path and the rule. */
export function parsePeeringRequest(text: string, source: string): PeeringRequestFile {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new PeeringError(
      'INVALID_CONFIG',
      `${source} is not valid YAML: ${document.errors[0]?.message ?? ''}`,
      'file',
    );
  }
  const parsed = FileSchema.safeParse(document.toJS());
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${fieldPath(issue.path)}: ${issue.message}`);
    throw new PeeringError(
      'INVALID_CONFIG',
      `${source} is not a valid PeeringRequest:\n${lines.join('\n')}`,
      fieldPath(parsed.error.issues[0]?.path ?? []),
    );
  }
  const { metadata, spec } = parsed.data;
  return {
    name: metadata?.name,
    localAsn: spec.localAsn,
    peerAsn: spec.peerAsn,
    apiUrl: spec.peerApiUrl ?? spec.apiUrl,
    sessions: spec.sessions,
    locations: spec.locations,
    addressFamilies: spec.addressFamilies,
    localBgpRole: spec.sessionDefaults?.localBgpRole,
    peerBgpRole: spec.sessionDefaults?.peerBgpRole,
  };
}

export async function readPeeringRequestFile(path: string): Promise<PeeringRequestFile> {
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (cause) {
    throw new PeeringError('INVALID_CONFIG', `cannot read ${path}: ${(cause as Error).message}`, 'file', {
      cause,
    });
  }
  return parsePeeringRequest(text, path === '-' ? 'standard input' : path);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A PeeringRequest YAML asking for discovered sessions explicitly (what `discover --as-request` prints). */
export function peeringRequestYaml(
  request: { name: string; localAsn: number; peerAsn: number; apiUrl?: string | undefined },
  sessions: readonly CandidateSession[],
): string {
  const spec: Record<string, unknown> = { localAsn: request.localAsn, peerAsn: request.peerAsn };
  if (request.apiUrl !== undefined) spec.peerApiUrl = request.apiUrl;
  spec.sessions = sessions.map((s) => ({ location: s.location.id, localIp: s.localIp, peerIp: s.peerIp }));
  return stringify({
    apiVersion: API_VERSION,
    kind: PEERING_REQUEST.kind,
    metadata: { name: request.name },
    spec,
  });
}
