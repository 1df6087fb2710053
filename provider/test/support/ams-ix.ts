import type { SessionBacking } from '../../src/session-props.js';

/**
 * A real pair of networks at AMS-IX (PeeringDB ix 26) in the 2022 sample: Cloudflare (AS13335, one port) and
 * Google (AS15169, two ports). The API server under test checks these against the sample's netixlan records,
 * so a typo here fails the Terraform tests rather than passing silently.
 */
export const AMS_IX = 'pdb:ix:26';

export const CLOUDFLARE = {
  asn: 13335,
  v4: '80.249.211.140',
  v6: '2001:7f8:1::a501:3335:1',
} as const;

export const GOOGLE = {
  asn: 15169,
  v4: ['80.249.208.247', '80.249.209.100'],
  v6: ['2001:7f8:1::a501:5169:1', '2001:7f8:1::a501:5169:2'],
} as const;

/**
 * Props of Cloudflare's IPv4 session with Google's first port, for any API URL. On `terraform_data` unless told
 * otherwise: most construct tests are about that fallback's hazards; the provider's have their own files.
 */
export function cloudflareToGoogleV4(apiUrl: string, backing: SessionBacking = 'terraform_data') {
  return {
    localAsn: CLOUDFLARE.asn,
    peerAsn: GOOGLE.asn,
    apiUrl,
    location: AMS_IX,
    localIp: CLOUDFLARE.v4,
    peerIp: GOOGLE.v4[0],
    backing,
  };
}

/** Props of Cloudflare's IPv6 session with Google's first port, with RFC 9234 peer roles, inside a request. */
export const AMS_IX_V6_PEER_ROLES = {
  name: 'ams-ix-v6',
  location: AMS_IX,
  localIp: CLOUDFLARE.v6,
  peerIp: GOOGLE.v6[0],
  localBgpRole: 4,
  peerBgpRole: 4,
} as const;
