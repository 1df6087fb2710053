import { z } from 'zod';
import { LocationIdSchema } from '../../domain/location.js';
import { AsnSchema } from '../../domain/session.js';
import { PEERING_APPROVAL } from './api-group.js';
import { ConditionListSchema } from './conditions.js';
import { resourceConstructor, type Resource } from './object.js';
import { withRules, type CrossFieldRule } from './rules.js';
import { IpAddressSchema } from './session-fields.js';

export const MAX_APPROVED_SESSIONS = 100;

const ApprovedSessionSchema = z
  .object({
    location: LocationIdSchema.meta({ description: 'pdb:ix:<id> or pdb:fac:<id>' }),
    localIp: IpAddressSchema.meta({ description: 'Our address' }),
    peerIp: IpAddressSchema.meta({ description: "The peer's address" }),
  })
  .strict();
export type ApprovedSession = z.infer<typeof ApprovedSessionSchema>;

const ApprovalSpecObject = z
  .object({
    peerAsn: AsnSchema.meta({ description: 'The network whose inbound sessions this approves' }),
    request: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .meta({
        description:
          'Only sessions of this inbound PeeringRequest (its name, in-as<ASN>-…, or our request_id); ' +
          'absent: of any request of the peer',
      }),
    sessions: z
      .array(ApprovedSessionSchema)
      .min(1)
      .max(MAX_APPROVED_SESSIONS)
      .optional()
      .meta({
        description: 'Only these sessions (in our reading: local = us); absent: every session of the request',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['location', 'localIp', 'peerIp'],
      }),
  })
  .strict();
type ApprovalSpecShape = z.output<typeof ApprovalSpecObject>;

export const APPROVAL_SPEC_RULES: CrossFieldRule<ApprovalSpecShape>[] = [
  {
    rule: 'has(self.request) || has(self.sessions)',
    message: 'name the request, the sessions, or both: an approval of everything a peer may ask is a policy',
    fieldPath: '.request',
    holds: (s) => s.request !== undefined || s.sessions !== undefined,
  },
];

export const PeeringApprovalSpecSchema = withRules(ApprovalSpecObject, APPROVAL_SPEC_RULES).meta({
  description:
    'A person approves sessions a peer asked for (or will ask for) through our Peering API; valid on its own, ' +
    'so it can be merged in git before the request exists',
});
export type PeeringApprovalSpec = z.output<typeof PeeringApprovalSpecSchema>;

export const PeeringApprovalStatusSchema = z
  .object({
    approved: z.array(z.string().max(253)).max(1000).optional().meta({
      description: 'The PeeringSessions this approval has approved',
    }),
    conditions: ConditionListSchema,
    observedGeneration: z.number().int().min(0).optional(),
  })
  .meta({ description: 'What the approval matched and approved' });
export type PeeringApprovalStatus = z.infer<typeof PeeringApprovalStatusSchema>;

export type PeeringApproval = Resource<PeeringApprovalSpec, PeeringApprovalStatus>;

export const peeringApproval = resourceConstructor<PeeringApproval>(PEERING_APPROVAL.kind);
