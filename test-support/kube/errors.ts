/**
 * Failures of the test control plane, one class per failure with a stable
 * `code`, so a test (or .ci/run's log reader) can tell "not available here"
 * from "available but broken".
 */

export type ControlPlaneErrorCode =
  | 'ERR_CONTROL_PLANE_UNAVAILABLE'
  | 'ERR_CONTROL_PLANE_BUILD'
  | 'ERR_CONTROL_PLANE_START'
  | 'ERR_CONTROL_PLANE_STOPPED'
  | 'ERR_CRD_SOURCE'
  | 'ERR_CRD_NOT_ESTABLISHED';

export abstract class ControlPlaneError extends Error {
  abstract readonly code: ControlPlaneErrorCode;
}

/** Neither KUBECONFIG, KUBEBUILDER_ASSETS, cached binaries nor Go are there. */
export class ControlPlaneUnavailableError extends ControlPlaneError {
  readonly code = 'ERR_CONTROL_PLANE_UNAVAILABLE';
  override readonly name = 'ControlPlaneUnavailableError';
}

/** test-support/kube/build.sh exited non-zero. */
export class ControlPlaneBuildError extends ControlPlaneError {
  readonly code = 'ERR_CONTROL_PLANE_BUILD';
  override readonly name = 'ControlPlaneBuildError';
}

/** etcd or kube-apiserver exited or did not become ready; the message carries its log tail. */
export class ControlPlaneStartError extends ControlPlaneError {
  readonly code = 'ERR_CONTROL_PLANE_START';
  override readonly name = 'ControlPlaneStartError';
}

/** A method was called after stop(). */
export class ControlPlaneStoppedError extends ControlPlaneError {
  readonly code = 'ERR_CONTROL_PLANE_STOPPED';
  override readonly name = 'ControlPlaneStoppedError';
}

/** A CRD file could not be read or holds something other than CustomResourceDefinitions. */
export class CrdSourceError extends ControlPlaneError {
  readonly code = 'ERR_CRD_SOURCE';
  override readonly name = 'CrdSourceError';
}

/** The API server accepted a CRD but never reported it Established (or rejected its names). */
export class CrdNotEstablishedError extends ControlPlaneError {
  readonly code = 'ERR_CRD_NOT_ESTABLISHED';
  override readonly name = 'CrdNotEstablishedError';
}
