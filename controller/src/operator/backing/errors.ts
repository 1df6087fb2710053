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

/** 404: no such object. */
export class ResourceNotFoundError extends ResourceStoreError {
  override readonly name = 'ResourceNotFoundError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 404, options);
  }
}

/** 422: the object breaks its schema or a CEL rule; the message names the field. */
export class ResourceInvalidError extends ResourceStoreError {
  override readonly name = 'ResourceInvalidError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 422, options);
  }
}

/** 410: a watch asked for a version the store no longer keeps; relist. */
export class ResourceGoneError extends ResourceStoreError {
  override readonly name = 'ResourceGoneError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 410, options);
  }
}

/** A Secret or one of its keys is missing; the message says which. */
export class SecretMissingError extends ResourceStoreError {
  override readonly name = 'SecretMissingError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 404, options);
  }
}

export function isConflict(error: unknown): error is ResourceConflictError {
  return error instanceof ResourceConflictError;
}

export function isNotFound(error: unknown): error is ResourceNotFoundError {
  return error instanceof ResourceNotFoundError;
}
