import { z } from 'zod';
import { SecretKeyReferenceSchema } from './session-fields.js';

/** The base URL of a peer's Peering API, base path included (`https://peering.example.net/v0.1`). */
export const PeerApiUrlSchema = z
  .string()
  .max(2048)
  .refine((value) => /^https?:\/\/[^\s/]+/.test(value) && URL.canParse(value), {
    message: 'must be an http(s) URL',
  })
  .meta({
    description: "The peer's Peering API base URL, base path included, e.g. https://peering.example.net/v0.1",
    'x-kubernetes-validations': [
      {
        rule: "isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHost() != ''",
        message: 'must be an http(s) URL',
      },
    ],
  });

/** OAuth 2.0 client credentials at an identity issuer the peer trusts (a JWT for the peer's API). */
export const OAuthClientCredentialsSchema = z
  .object({
    issuer: z
      .string()
      .max(2048)
      .refine((value) => /^https?:\/\/[^\s/]+/.test(value) && URL.canParse(value), {
        message: 'must be an http(s) URL',
      })
      .meta({
        description:
          'The issuer identifier (OpenID Connect discovery), e.g. https://auth.peeringdb.com/oauth2',
      }),
    clientId: z.string().min(1).max(256),
    clientSecretRef: SecretKeyReferenceSchema.meta({ description: 'A Secret key holding the client secret' }),
    resource: z.string().max(2048).optional().meta({
      description: "RFC 8707 resource indicator, normally the peer's API URL (the JWT's audience)",
    }),
    scope: z.string().max(1024).optional(),
    dpopKeySecretRef: SecretKeyReferenceSchema.optional().meta({
      description:
        'A Secret key holding an ES256 private JWK: tokens are then DPoP-bound to it (RFC 9449) and every request is signed with it (RFC 9421), as a peer with the dpop or dpop+signature policy requires',
    }),
  })
  .strict()
  .meta({ description: 'OAuth 2.0 client credentials grant; the secret by Secret reference' });
export type OAuthClientCredentials = z.infer<typeof OAuthClientCredentialsSchema>;

/**
 * How to authenticate to a peer's Peering API: a bearer token the peer issued to us, or client credentials at
 * an issuer it trusts. Only references: secrets live in Secrets.
 *
 * @example
 * credentials:
 *   bearerTokenSecretRef: { name: peering-as64501, key: token }
 * # or
 * credentials:
 *   oauth2ClientCredentials:
 *     issuer: https://auth.peeringdb.com/oauth2
 *     clientId: as64500-automation
 *     clientSecretRef: { name: peeringdb-client, key: secret }
 *     resource: https://peering.example.net/v0.1
 *     dpopKeySecretRef: { name: peeringdb-client, key: dpop.jwk } # optional: DPoP-bound tokens, signed requests
 */
export const PeerApiCredentialsSchema = z
  .object({
    bearerTokenSecretRef: SecretKeyReferenceSchema.optional().meta({
      description: 'A Secret key holding a bearer token the peer issued to us',
    }),
    oauth2ClientCredentials: OAuthClientCredentialsSchema.optional(),
  })
  .strict()
  .refine((c) => (c.bearerTokenSecretRef === undefined) !== (c.oauth2ClientCredentials === undefined), {
    message: 'give exactly one of bearerTokenSecretRef and oauth2ClientCredentials',
  })
  .meta({
    description: "Credentials for the peer's Peering API, by Secret reference",
    'x-kubernetes-validations': [
      {
        rule: 'has(self.bearerTokenSecretRef) != has(self.oauth2ClientCredentials)',
        message: 'give exactly one of bearerTokenSecretRef and oauth2ClientCredentials',
      },
    ],
  });
export type PeerApiCredentials = z.infer<typeof PeerApiCredentialsSchema>;
