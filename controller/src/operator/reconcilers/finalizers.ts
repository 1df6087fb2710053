import { hasFinalizer, type Resource } from '../resources/object.js';
import { isNotFound } from '../backing/errors.js';
import type { ResourceCollection } from '../backing/resource-collection.js';

/**
 * Puts `finalizer` on `object` unless it is there (the chart's admission policy usually put it on at creation).
 * Resolves with the object as written, or as given when nothing was to write.
 */
export async function ensureFinalizer<T extends Resource<unknown, unknown>>(
  collection: ResourceCollection<T>,
  object: T,
  finalizer: string,
): Promise<T> {
  if (hasFinalizer(object.metadata, finalizer)) return object;
  return collection.update({
    ...object,
    metadata: { ...object.metadata, finalizers: [...(object.metadata.finalizers ?? []), finalizer] },
  });
}

/** Takes `finalizer` off `object` once its clean-up is done; an object already gone is fine. */
export async function releaseFinalizer<T extends Resource<unknown, unknown>>(
  collection: ResourceCollection<T>,
  object: T,
  finalizer: string,
): Promise<void> {
  try {
    await collection.update({
      ...object,
      metadata: {
        ...object.metadata,
        finalizers: (object.metadata.finalizers ?? []).filter((f) => f !== finalizer),
      },
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
