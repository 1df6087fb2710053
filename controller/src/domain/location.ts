import { z } from 'zod';

/** `public` peering happens over an IX LAN; `private` over a cross-connect in a facility. */
export const PeeringTypeSchema = z.enum(['public', 'private']).meta({
  description: 'public: over an Internet exchange LAN; private: over a cross-connect in a facility',
});
export type PeeringType = z.infer<typeof PeeringTypeSchema>;

const LOCATION_ID = /^pdb:(ix|fac):([1-9][0-9]{0,9})$/;

/** A location id: `pdb:ix:<id>` (IX and IX LAN ids coincide in PeeringDB) or `pdb:fac:<id>`. */
export const LocationIdSchema = z
  .string()
  .regex(LOCATION_ID, 'must be pdb:ix:<PeeringDB ix id> or pdb:fac:<PeeringDB facility id>')
  .meta({ example: 'pdb:ix:26' });

/** The wire shape of a Peering Location. */
export const LocationSchema = z
  .object({ id: LocationIdSchema, type: PeeringTypeSchema })
  .meta({ title: 'Location', description: 'A peering location: an IX (public) or a facility (private).' });
export type Location = z.infer<typeof LocationSchema>;

/**
 * Input form: the object, or the bare id string the older spec used (`"pdb:ix:26"`), whose type follows from
 * the id. A type that contradicts the id is refused rather than guessed.
 */
export const LocationInputSchema = z
  .union([LocationIdSchema, z.object({ id: LocationIdSchema, type: PeeringTypeSchema.optional() })])
  .transform((value, ctx): Location => {
    const id = typeof value === 'string' ? value : value.id;
    const kind = locationKind(id);
    const type = typeof value === 'string' || value.type === undefined ? kind : value.type;
    if (type !== kind) {
      ctx.addIssue({
        code: 'custom',
        message: `a ${id.split(':')[1]} location is ${kind}, not ${type}`,
        path: ['type'],
      });
      return z.NEVER;
    }
    return { id, type };
  });

/** `public` for `pdb:ix:*`, `private` for `pdb:fac:*`. */
export function locationKind(id: string): PeeringType {
  return id.startsWith('pdb:fac:') ? 'private' : 'public';
}

/** The PeeringDB numeric id inside a location id. */
export function locationNumber(id: string): number {
  const match = LOCATION_ID.exec(id);
  if (!match) throw new RangeError(`not a location id: ${id}`);
  return Number(match[2]);
}

export function ixLocationId(ixId: number): string {
  return `pdb:ix:${ixId}`;
}

export function facilityLocationId(facId: number): string {
  return `pdb:fac:${facId}`;
}
