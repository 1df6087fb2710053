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

/** One failure of the control plane, a class of its own (for `instanceof`) with its stable code. */
function failure(code: ControlPlaneErrorCode, name: string) {
  return class extends ControlPlaneError {
    readonly code = code;
    override readonly name = name;
  };
}

/**
 * Neither KUBECONFIG, KUBEBUILDER_ASSETS, cached binaries nor Go are there; or
 * a test asks for kube-controller-manager and the binaries' folder has none.
 */
export const ControlPlaneUnavailableError = failure(
  'ERR_CONTROL_PLANE_UNAVAILABLE',
  'ControlPlaneUnavailableError',
);
export type ControlPlaneUnavailableError = InstanceType<typeof ControlPlaneUnavailableError>;

/** test-support/kube/build.sh exited non-zero. */
export const ControlPlaneBuildError = failure('ERR_CONTROL_PLANE_BUILD', 'ControlPlaneBuildError');
export type ControlPlaneBuildError = InstanceType<typeof ControlPlaneBuildError>;

/** etcd or kube-apiserver exited or did not become ready; the message carries its log tail. */
export const ControlPlaneStartError = failure('ERR_CONTROL_PLANE_START', 'ControlPlaneStartError');
export type ControlPlaneStartError = InstanceType<typeof ControlPlaneStartError>;

/** A method was called after stop(). */
export const ControlPlaneStoppedError = failure('ERR_CONTROL_PLANE_STOPPED', 'ControlPlaneStoppedError');
export type ControlPlaneStoppedError = InstanceType<typeof ControlPlaneStoppedError>;

/** A CRD file could not be read or holds something other than CustomResourceDefinitions. */
export const CrdSourceError = failure('ERR_CRD_SOURCE', 'CrdSourceError');
export type CrdSourceError = InstanceType<typeof CrdSourceError>;

/** The API server accepted a CRD but never reported it Established (or rejected its names). */
export const CrdNotEstablishedError = failure('ERR_CRD_NOT_ESTABLISHED', 'CrdNotEstablishedError');
export type CrdNotEstablishedError = InstanceType<typeof CrdNotEstablishedError>;
