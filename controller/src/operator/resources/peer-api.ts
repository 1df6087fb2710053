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

/**
 * How to authenticate to a peer's Peering API. Only references: the token lives in a Secret.
 *
 * @example
 * credentials:
 *   bearerTokenSecretRef: { name: peering-as64501, key: token }
 */
export const PeerApiCredentialsSchema = z
  .object({
    bearerTokenSecretRef: SecretKeyReferenceSchema.meta({
      description: 'A Secret key holding a bearer token the peer issued to us',
    }),
  })
  .strict()
  .meta({ description: "Credentials for the peer's Peering API, by Secret reference" });
export type PeerApiCredentials = z.infer<typeof PeerApiCredentialsSchema>;
