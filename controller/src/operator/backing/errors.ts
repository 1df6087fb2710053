/**
 * Failures of a resource store, the same for the Kubernetes API and the embedded store, so reconcilers handle
 * "someone else wrote first" and "gone" in one way.
 */
export class ResourceStoreError extends Error {
  constructor(
    message: string,
    /** The HTTP status Kubernetes would answer. */
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 409: the resourceVersion was stale, or the object exists already (`alreadyExists`). */
export class ResourceConflictError extends ResourceStoreError {
  override readonly name = 'ResourceConflictError';
  constructor(
    message: string,
    readonly alreadyExists = false,
    options?: { cause?: unknown },
  ) {
    super(message, 409, options);
  }
}

/** A failure of a fixed status, in its own class so that callers can tell them apart with `instanceof`. */
function failureOfStatus(name: string, status: number) {
  return class extends ResourceStoreError {
    override readonly name = name;
    constructor(message: string, options?: { cause?: unknown }) {
      super(message, status, options);
    }
  };
}

/** 404: no such object. */
export const ResourceNotFoundError = failureOfStatus('ResourceNotFoundError', 404);
export type ResourceNotFoundError = InstanceType<typeof ResourceNotFoundError>;

/** 422: the object breaks its schema or a CEL rule; the message names the field. */
export const ResourceInvalidError = failureOfStatus('ResourceInvalidError', 422);
export type ResourceInvalidError = InstanceType<typeof ResourceInvalidError>;

/** 410: a watch asked for a version the store no longer keeps; relist. */
export const ResourceGoneError = failureOfStatus('ResourceGoneError', 410);
export type ResourceGoneError = InstanceType<typeof ResourceGoneError>;

/** A Secret or one of its keys is missing; the message says which. */
export const SecretMissingError = failureOfStatus('SecretMissingError', 404);
export type SecretMissingError = InstanceType<typeof SecretMissingError>;

export function isConflict(error: unknown): error is ResourceConflictError {
  return error instanceof ResourceConflictError;
}

export function isNotFound(error: unknown): error is ResourceNotFoundError {
  return error instanceof ResourceNotFoundError;
}
