/**
 * The one error catalog of peering-operator.
 *
 * Every failure the product can report has a stable machine `code` here, mapped once to the HTTP status the
 * Peering API answers with and to the `reason` a Kubernetes condition carries. Codes never change meaning;
 * new failures get new codes.
 *
 * @example
 * throw new PeeringError('SESSION_NOT_FOUND', 'no session 3f1c… is visible to you', 'session_id');
 */
export const ERROR_CATALOG = {
  // Request shape (400 family)
  INVALID_FIELD: {
    status: 400,
    reason: 'InvalidField',
    summary: 'A field has the wrong type, format or value.',
  },
  MISSING_FIELD: { status: 400, reason: 'InvalidField', summary: 'A required field is absent.' },
  MALFORMED_BODY: { status: 400, reason: 'InvalidRequest', summary: 'The body is not well-formed JSON.' },
  DUPLICATE_KEY: { status: 400, reason: 'InvalidRequest', summary: 'A JSON object repeats a key.' },
  TOO_DEEP: { status: 400, reason: 'InvalidRequest', summary: 'The JSON body nests too deeply.' },
  TOO_MANY_SESSIONS: {
    status: 400,
    reason: 'InvalidRequest',
    summary: 'More sessions in one request than allowed.',
  },
  INVALID_NEXT_TOKEN: {
    status: 400,
    reason: 'InvalidRequest',
    summary: 'The pagination token is forged, damaged or from another query.',
  },
  INVALID_SESSION_ID: { status: 400, reason: 'InvalidRequest', summary: 'A session id is not a UUID.' },
  // Policy (per-session rejections inside a 200, or 400 when every session is rejected)
  ASN_NOT_OURS: { status: 400, reason: 'NotOurAsn', summary: 'Neither ASN of the session is one of ours.' },
  ROLE_MISMATCH: { status: 400, reason: 'RoleMismatch', summary: 'BGP roles are not RFC 9234 role-correct.' },
  MONITORING_CONFLICT: {
    status: 400,
    reason: 'MonitoringConflict',
    summary: 'Both sides cannot be monitoring sessions.',
  },
  ADDRESS_FAMILY_MISMATCH: {
    status: 400,
    reason: 'AddressFamilyMismatch',
    summary: 'local_ip and peer_ip are of different address families.',
  },
  LOCATION_UNKNOWN: {
    status: 400,
    reason: 'LocationUnknown',
    summary: 'The location does not exist in PeeringDB.',
  },
  LOCATION_NOT_SHARED: {
    status: 400,
    reason: 'LocationNotShared',
    summary: 'We are not present at this location.',
  },
  LOCATION_TYPE_MISMATCH: {
    status: 400,
    reason: 'LocationTypeMismatch',
    summary: 'The location, its type and peer_type disagree.',
  },
  LOCAL_IP_NOT_OURS: {
    status: 400,
    reason: 'LocalIpNotOurs',
    initiatorReason: 'PeerIpNotTheirs',
    summary: 'local_ip is not one of our addresses at this location.',
  },
  PEER_IP_NOT_REGISTERED: {
    status: 400,
    reason: 'PeerIpNotRegistered',
    initiatorReason: 'LocalIpNotRegistered',
    summary: "peer_ip is not one of the caller's addresses at this location in PeeringDB.",
  },
  PEER_IP_OUTSIDE_PREFIX: {
    status: 400,
    reason: 'PeerIpOutsidePrefix',
    summary: "An address is outside the exchange's peering LAN prefix.",
  },
  PEER_NOT_ALLOWED: {
    status: 400,
    reason: 'PeerNotAllowed',
    initiatorReason: 'NotAllowedByPeer',
    summary: 'Our peering policy does not accept this ASN.',
  },
  PENDING_LIMIT: {
    status: 400,
    reason: 'PendingLimit',
    summary: 'The caller has too many sessions awaiting approval.',
  },
  DUPLICATE_IN_REQUEST: {
    status: 400,
    reason: 'DuplicateInRequest',
    summary: 'The same session appears twice in one request.',
  },
  UNUSABLE_ADDRESS: {
    status: 400,
    reason: 'UnusableAddress',
    summary:
      'An address can never be a BGP endpoint (unspecified, loopback, multicast, link-local, reserved) or is the same on both sides.',
  },
  SESSION_EXISTS_WITH_OTHER_TERMS: {
    status: 409,
    reason: 'SessionExistsWithOtherTerms',
    summary: 'A session with this natural key exists with other terms; it was left as it is.',
  },
  // Identity and access
  UNAUTHENTICATED: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'No bearer token, or one that is not valid.',
  },
  // DPoP (RFC 9449): one code per check a proof or its token failed; nothing of the request is acted on.
  DPOP_SCHEME_REQUIRED: {
    status: 401,
    reason: 'Unauthenticated',
    summary:
      'The token is DPoP-bound, or the caller must use DPoP, and it came with another scheme than DPoP.',
  },
  DPOP_TOKEN_NOT_BOUND: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The caller must use DPoP and its access token is not bound to a key (no cnf.jkt).',
  },
  DPOP_PROOF_MISSING: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'No DPoP header came with the token.',
  },
  DPOP_PROOF_MULTIPLE: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'More than one DPoP header, or one holding more than one proof.',
  },
  DPOP_PROOF_INVALID: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The DPoP proof is not a well-formed JWT, lacks a claim, or its signature does not verify.',
  },
  DPOP_TYP_INVALID: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The DPoP proof is not typed dpop+jwt.',
  },
  DPOP_ALG_NOT_ALLOWED: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The DPoP proof is signed with an algorithm outside the allow list (none and HMAC never are).',
  },
  DPOP_JWK_INVALID: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The jwk of the DPoP proof is missing, not an asymmetric public key, or holds private members.',
  },
  DPOP_HTM_MISMATCH: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The htm of the DPoP proof is not the method of the request.',
  },
  DPOP_HTU_MISMATCH: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The htu of the DPoP proof is not the URL of the request under our public API URL.',
  },
  DPOP_IAT_OUT_OF_WINDOW: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The DPoP proof was issued too long ago or in the future.',
  },
  DPOP_NONCE_REQUIRED: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The DPoP proof lacks the current server nonce; retry with the DPoP-Nonce given.',
  },
  DPOP_ATH_MISMATCH: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The ath of the DPoP proof is missing or is not the hash of the access token presented.',
  },
  DPOP_KEY_MISMATCH: {
    status: 401,
    reason: 'Unauthenticated',
    summary: "The DPoP proof's key is not the key the access token is bound to (cnf.jkt).",
  },
  DPOP_JTI_REPLAYED: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The DPoP proof was used before.',
  },
  // HTTP Message Signatures (RFC 9421) and Content-Digest (RFC 9530), for `dpop+signature` callers: checked after
  // the DPoP proof, with its key; nothing of the request is acted on.
  SIGNATURE_MISSING: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The caller must sign its requests and Signature-Input or Signature is absent.',
  },
  SIGNATURE_INVALID: {
    status: 401,
    reason: 'Unauthenticated',
    summary:
      'The signature is malformed, not exactly one, not ecdsa-p256-sha256, covers what we cannot verify, or does not verify.',
  },
  SIGNATURE_KEY_MISMATCH: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The keyid of the signature is not the thumbprint of the DPoP key (cnf.jkt).',
  },
  SIGNATURE_COMPONENTS_MISSING: {
    status: 401,
    reason: 'Unauthenticated',
    summary:
      'The signature does not cover @method, @target-uri, authorization, dpop, and content-digest and content-type when present.',
  },
  SIGNATURE_CREATED_OUT_OF_WINDOW: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The signature has no created, was created too long ago or in the future, or has expired.',
  },
  SIGNATURE_NONCE_REPLAYED: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The nonce of the signature was used before.',
  },
  CONTENT_DIGEST_MISSING: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'A request with a body from a signing caller has no Content-Digest.',
  },
  CONTENT_DIGEST_MISMATCH: {
    status: 401,
    reason: 'Unauthenticated',
    summary: 'The Content-Digest is malformed, has no sha-256, or is not the digest of the body received.',
  },
  FORBIDDEN_ASN: {
    status: 403,
    reason: 'Forbidden',
    summary: 'The caller does not hold that ASN with the permission needed.',
  },
  SESSION_NOT_FOUND: {
    status: 404,
    reason: 'SessionNotFound',
    summary: 'No such session is visible to the caller.',
  },
  NOT_FOUND: { status: 404, reason: 'NotFound', summary: 'No such route.' },
  METHOD_NOT_ALLOWED: {
    status: 405,
    reason: 'InvalidRequest',
    summary: 'The route does not take this method.',
  },
  NOT_ACCEPTABLE: { status: 406, reason: 'InvalidRequest', summary: 'The server answers only JSON.' },
  BODY_TOO_LARGE: {
    status: 413,
    reason: 'InvalidRequest',
    summary: 'The body is larger than the server accepts.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    reason: 'InvalidRequest',
    summary: 'The body must be application/json.',
  },
  HUMAN_INTERVENTION_REQUIRED: {
    status: 422,
    reason: 'HumanInterventionRequired',
    summary: 'The request cannot be handled automatically; contact the network.',
  },
  RATE_LIMITED: {
    status: 429,
    reason: 'RateLimited',
    summary: 'Too many requests; retry after the given delay.',
  },
  INTERNAL: {
    status: 500,
    reason: 'InternalError',
    summary: 'An unexpected failure; details are in the server log.',
  },
  IDENTITY_PROVIDER_UNAVAILABLE: {
    status: 503,
    reason: 'IdentityProviderUnavailable',
    summary: 'The identity provider cannot be reached; nobody is let in.',
  },
  // Outbound (client side), never answered by our server but carried by the client's typed errors
  REMOTE_UNAVAILABLE: {
    status: 502,
    reason: 'PeerUnreachable',
    summary: "The peer's Peering API cannot be reached.",
  },
  REMOTE_PROTOCOL: {
    status: 502,
    reason: 'RemoteProtocolError',
    summary: "The peer's answer does not follow the API.",
  },
  TIMEOUT: { status: 504, reason: 'Timeout', summary: 'The remote side did not answer in time.' },
  // Configuration and resources
  INVALID_CONFIG: { status: 500, reason: 'InvalidConfig', summary: 'The configuration file is not valid.' },
  SECRET_NOT_FOUND: {
    status: 500,
    reason: 'SecretNotFound',
    summary: 'A Secret a resource names (credentials, session secret) does not exist or lacks the key.',
  },
  PEER_REJECTED: {
    status: 502,
    reason: 'PeerRejected',
    summary: 'The peer refused every session of the request; status.rejected has its reasons.',
  },
  DUPLICATE_SESSION: {
    status: 409,
    reason: 'DuplicateSession',
    summary: 'Another PeeringRequest already owns this session; this one does not manage it.',
  },
  BGP_DOWN: {
    status: 503,
    reason: 'BgpDown',
    summary: 'BGP was established on our router and is not now.',
  },
  NO_ROUTER: {
    status: 503,
    reason: 'NoRouter',
    summary: 'No router of ours speaks from the session’s local address; nothing was configured.',
  },
  ROUTER_REJECTED: {
    status: 500,
    reason: 'RouterRejected',
    summary: 'The router refused the configuration.',
  },
  ROUTER_UNAVAILABLE: {
    status: 503,
    reason: 'RouterUnavailable',
    summary: 'The router cannot be reached; the change is retried, not refused.',
  },
} as const satisfies Record<
  string,
  {
    status: number;
    reason: string;
    summary: string;
    /**
     * The reason as the initiator reads it, where the code speaks in the receiver's reading (`local` = the
     * receiver): the peer's `LocalIpNotOurs` is, to us, our `peerIp` not being theirs.
     */
    initiatorReason?: string;
  }
>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** One entry of the wire error list (docs/api.md §11). */
export interface FieldError {
  /** Field path such as `sessions[2].peer_ip`, or `request` for the request as a whole. */
  name: string;
  errors: string[];
  code: ErrorCode;
}

/** A failure with a catalog code; `field` names what was wrong (`request` when nothing narrower applies). */
export class PeeringError extends Error {
  override readonly name = 'PeeringError';
  readonly status: number;
  readonly reason: string;
  readonly details: FieldError[];

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field = 'request',
    options?: { cause?: unknown; details?: FieldError[]; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = ERROR_CATALOG[code].status;
    this.reason = ERROR_CATALOG[code].reason;
    this.details = options?.details ?? [{ name: field, errors: [message], code }];
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  readonly retryAfterSeconds: number | undefined;

  /** The wire body of this error. */
  toBody(): { errors: FieldError[] } {
    return { errors: this.details };
  }
}
