import { z } from 'zod';

/**
 * The PeeringDB objects we read, with only the fields we use. PeeringDB adds fields over time and its older
 * dumps lack some (`bfd_support`), so unknown fields are ignored and newer ones optional.
 */
export const NetSchema = z.object({
  id: z.number().int(),
  asn: z.number().int(),
  name: z.string(),
  irr_as_set: z.string().nullish(),
  info_prefixes4: z.number().int().nullish(),
  info_prefixes6: z.number().int().nullish(),
  policy_general: z.string().nullish(),
  info_never_via_route_servers: z.boolean().nullish(),
  status: z.string().optional(),
});
export type Net = z.infer<typeof NetSchema>;

export const NetIxLanSchema = z.object({
  id: z.number().int(),
  net_id: z.number().int(),
  ix_id: z.number().int(),
  ixlan_id: z.number().int(),
  name: z.string().nullish(),
  asn: z.number().int(),
  ipaddr4: z.string().nullish(),
  ipaddr6: z.string().nullish(),
  speed: z.number().int().nullish(),
  is_rs_peer: z.boolean().nullish(),
  operational: z.boolean().default(true),
  bfd_support: z.boolean().nullish(),
  status: z.string().optional(),
});
export type NetIxLan = z.infer<typeof NetIxLanSchema>;

export const IxSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  city: z.string().nullish(),
  country: z.string().nullish(),
  region_continent: z.string().nullish(),
  status: z.string().optional(),
});
export type Ix = z.infer<typeof IxSchema>;

export const IxLanSchema = z.object({
  id: z.number().int(),
  ix_id: z.number().int(),
  mtu: z.number().int().nullish(),
  rs_asn: z.number().int().nullish(),
});
export type IxLan = z.infer<typeof IxLanSchema>;

export const IxPfxSchema = z.object({
  id: z.number().int(),
  ixlan_id: z.number().int(),
  protocol: z.enum(['IPv4', 'IPv6']),
  prefix: z.string(),
  status: z.string().optional(),
});
export type IxPfx = z.infer<typeof IxPfxSchema>;

export const NetFacSchema = z.object({
  id: z.number().int(),
  net_id: z.number().int(),
  fac_id: z.number().int(),
  local_asn: z.number().int(),
  name: z.string().nullish(),
  city: z.string().nullish(),
  country: z.string().nullish(),
  status: z.string().optional(),
});
export type NetFac = z.infer<typeof NetFacSchema>;

export const FacSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  city: z.string().nullish(),
  country: z.string().nullish(),
  status: z.string().optional(),
});
export type Fac = z.infer<typeof FacSchema>;

/** The PeeringDB objects we read, by their API name (`/api/net`, or `net.json` in a dump folder). */
export const OBJECTS = {
  net: NetSchema,
  netixlan: NetIxLanSchema,
  ix: IxSchema,
  ixpfx: IxPfxSchema,
  netfac: NetFacSchema,
  fac: FacSchema,
} as const;
export type ObjectName = keyof typeof OBJECTS;
export type RecordOf<O extends ObjectName> = z.infer<(typeof OBJECTS)[O]>;

/** Rows PeeringDB marks deleted (`status: "deleted"`, seen with `since=`) are never used. */
export function isLive(row: { status?: string | undefined }): boolean {
  return row.status === undefined || row.status === 'ok';
}

/**
 * The live records of one object from PeeringDB's API envelope (`{"data": [...]}`), or the first problem with
 * it: the one reading of an answer, whether it came from the API or from a dump on disk.
 */
export function readEnvelope<O extends ObjectName>(
  object: O,
  body: unknown,
): { records: RecordOf<O>[] } | { problem: string } {
  const parsed = z.object({ data: z.array(OBJECTS[object]) }).safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { problem: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'not a PeeringDB API envelope'}` };
  }
  return { records: (parsed.data.data as RecordOf<O>[]).filter(isLive) };
}
