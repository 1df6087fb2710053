import { z } from 'zod';
import { parseIpAddress } from '../../domain/ip.js';
import { LocationIdSchema } from '../../domain/location.js';
import { ROUTER } from './api-group.js';
import { ConditionListSchema } from './conditions.js';
import { resourceConstructor, type Resource } from './object.js';

/** The BGP daemons a router agent can drive. */
export const ROUTER_DRIVERS = ['bird', 'frr'] as const;
export const RouterDriverSchema = z.enum(ROUTER_DRIVERS).meta({
  description: 'The BGP daemon the router agent drives: bird (BIRD 2) or frr (FRRouting)',
});
export type RouterDriverKind = z.infer<typeof RouterDriverSchema>;

/**
 * One address or prefix a router speaks from. A session is assigned to the router whose addresses hold its
 * local address: an exact address wins over a prefix, a longer prefix over a shorter one.
 */
export const RouterAddressSchema = z
  .string()
  .min(2)
  .max(49)
  .refine(
    (value) => {
      const parsed = parseIpAddress(value);
      if (typeof parsed === 'string') return false;
      const [address] = value.split('/');
      return address === parsed.address;
    },
    { message: 'must be an IPv4 or IPv6 address or prefix in canonical form (192.0.2.1, 2001:db8::/64)' },
  )
  .meta({
    description: 'An address (192.0.2.1) or a prefix (192.0.2.0/24) this router speaks from',
    'x-kubernetes-validations': [
      { rule: 'isIP(self) || isCIDR(self)', message: 'must be an IPv4 or IPv6 address or prefix' },
    ],
  });

const Seconds = (min: number) => z.number().int().min(min).max(65535);

/** BGP timers every session on this router gets (the driver's defaults where absent). */
export const RouterTimersSchema = z
  .object({
    hold: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .optional()
      .meta({ description: 'Hold time in seconds: 0 (no keepalives) or 3-65535' }),
    keepalive: Seconds(1).optional(),
    connectRetry: Seconds(1).optional(),
  })
  .strict()
  .meta({
    'x-kubernetes-validations': [
      { rule: '!has(self.hold) || self.hold == 0 || self.hold >= 3', message: 'hold must be 0 or 3-65535' },
      {
        rule: '!has(self.hold) || !has(self.keepalive) || self.hold == 0 || self.keepalive < self.hold',
        message: 'keepalive must be shorter than hold',
      },
    ],
  })
  .refine((t) => t.hold === undefined || t.hold === 0 || t.hold >= 3, {
    message: 'hold must be 0 or 3-65535',
    path: ['hold'],
  })
  .refine((t) => t.hold === undefined || t.keepalive === undefined || t.hold === 0 || t.keepalive < t.hold, {
    message: 'keepalive must be shorter than hold',
    path: ['keepalive'],
  });
export type RouterTimers = z.infer<typeof RouterTimersSchema>;

export const RouterSpecSchema = z
  .object({
    driver: RouterDriverSchema,
    addresses: z
      .array(RouterAddressSchema)
      .min(1)
      .max(256)
      .meta({ description: 'The local addresses (or prefixes) this router speaks from' }),
    locations: z.array(LocationIdSchema).max(256).optional().meta({
      description: 'When set, only sessions at these locations (pdb:ix:N, pdb:fac:N) are assigned here',
    }),
    timers: RouterTimersSchema.optional(),
  })
  .strict()
  .meta({ description: 'A BGP speaker, and which sessions belong on it' });
export type RouterSpec = z.infer<typeof RouterSpecSchema>;

export const RouterStatusSchema = z
  .object({
    agent: z
      .object({
        identity: z.string().max(253).optional().meta({ description: 'The agent process (host, pod)' }),
        heartbeatTime: z.string().max(64).optional().meta({ format: 'date-time' }),
      })
      .optional()
      .meta({ description: 'The router agent, as it last reported itself' }),
    lastObservationTime: z
      .string()
      .max(64)
      .optional()
      .meta({ format: 'date-time', description: 'When the agent last read the BGP state of every session' }),
    sessions: z
      .object({
        assigned: z.number().int().min(0),
        configured: z.number().int().min(0),
        established: z.number().int().min(0),
      })
      .optional(),
    conditions: ConditionListSchema,
    observedGeneration: z.number().int().min(0).optional(),
  })
  .meta({ description: 'What the router agent and the operator observed' });
export type RouterStatus = z.infer<typeof RouterStatusSchema>;

export type Router = Resource<RouterSpec, RouterStatus>;

/** Condition types of a Router: its agent's heartbeat, and whether every assigned session is configured. */
export const ROUTER_CONDITIONS = ['RouterConnected', 'Ready'] as const;

export const router = resourceConstructor<Router>(ROUTER.kind);
