/**
 * Names shared by every piece of the operator: the API group, the kinds, the finalizers and the labels. Kept in
 * one place so that a rename cannot leave a reconciler and the CRD YAML disagreeing.
 */
export const GROUP = 'peering.autopeer.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A kind the operator serves, with the names Kubernetes needs for it. */
export interface KindNames {
  kind: 'PeeringRequest' | 'PeeringSession' | 'Router' | 'PeeringApproval';
  plural: string;
  singular: string;
  shortNames: string[];
}

export const PEERING_REQUEST: KindNames = {
  kind: 'PeeringRequest',
  plural: 'peeringrequests',
  singular: 'peeringrequest',
  shortNames: ['preq', 'peerreq'],
};

export const PEERING_SESSION: KindNames = {
  kind: 'PeeringSession',
  plural: 'peeringsessions',
  singular: 'peeringsession',
  shortNames: ['psess', 'peersess'],
};

/** One BGP speaker the operator's sessions go on, driven by the router agent beside it. */
export const ROUTER: KindNames = {
  kind: 'Router',
  plural: 'routers',
  singular: 'router',
  shortNames: ['rtr', 'peerrouter'],
};

/** A person's approval of inbound sessions, valid on its own (before the peer has asked): approvals in git. */
export const PEERING_APPROVAL: KindNames = {
  kind: 'PeeringApproval',
  plural: 'peeringapprovals',
  singular: 'peeringapproval',
  shortNames: ['papp', 'peerapproval'],
};

/** `kubectl get peering` lists every kind. */
export const CATEGORIES = ['peering'];

/**
 * Gates deletion of a PeeringSession until the remote `DELETE` (outbound) or the router clean-up (inbound) is
 * done, and of a PeeringRequest until its sessions are gone.
 */
export const SESSION_FINALIZER = `${GROUP}/de-peer`;
export const REQUEST_FINALIZER = `${GROUP}/remove-sessions`;

/** Labels the operator sets, so that selectors find a request's sessions and the API server its rows. */
export const LABEL = {
  /** Name of the PeeringRequest a session belongs to. */
  request: `${GROUP}/request`,
  /** `outbound` or `inbound`. */
  direction: `${GROUP}/direction`,
  /** The other network's ASN. */
  peerAsn: `${GROUP}/peer-asn`,
  /** The session id (a UUID fits a label value). */
  sessionId: `${GROUP}/session-id`,
  /** The request id under which a session was requested (ours for inbound, the peer's for outbound). */
  requestId: `${GROUP}/request-id`,
  /** SHA-256 prefix of (peer ASN, client request id): client ids may hold characters labels refuse. */
  clientRequest: `${GROUP}/client-request`,
  /** On a counter-request: the name of the inbound PeeringRequest it answers (the draft's return_url flow). */
  answers: `${GROUP}/answers`,
  /** Set on objects the standalone mode applied from a manifests folder. */
  manifest: `${GROUP}/manifest`,
} as const;

export const ANNOTATION = {
  /** Who asked for an inbound request or session (audit: subject, e-mail, issuer — never a token). */
  requestedBy: `${GROUP}/requested-by`,
  /** The status an inbound session was accepted with, so the first reconcile can restore it after a crash. */
  initialState: `${GROUP}/initial-state`,
  /** Who removed an inbound session through the API. */
  removedBy: `${GROUP}/removed-by`,
} as const;
