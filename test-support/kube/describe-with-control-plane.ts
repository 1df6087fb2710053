import { startControlPlane, type ControlPlane, type StartControlPlaneOptions } from './control-plane.js';
import { findControlPlaneSource } from './control-plane-source.js';
import { ControlPlaneUnavailableError } from './errors.js';

/** The first build of kube-apiserver takes a quarter of an hour on two cores; later starts take seconds. */
const BUILD_AND_START_TIMEOUT_MS = 45 * 60_000;
const START_TIMEOUT_MS = 2 * 60_000;

/** Set by .ci/run: there a missing control plane fails the run instead of skipping suites. */
export const REQUIRE_ENV = 'PEERING_REQUIRE_CONTROL_PLANE';

/**
 * A jest `describe` whose tests get a real API server of their own: started
 * in `beforeAll`, stopped in `afterAll` (which jest runs when tests fail too).
 * `plane()` gives the running {@link ControlPlane} inside tests and hooks.
 *
 * Where no control plane can be had (no KUBECONFIG, KUBEBUILDER_ASSETS,
 * cached binaries or Go) the suite is skipped with a loud warning, unless
 * `PEERING_REQUIRE_CONTROL_PLANE=1`, where it throws and so fails the run.
 *
 * @example
 * ```ts
 * describeWithControlPlane('session reconciler', (plane) => {
 *   let namespace: string;
 *   beforeAll(async () => {
 *     await plane().installCRDs('crds');
 *     namespace = await plane().newNamespace('sessions');
 *   });
 *   it('creates a session', async () => {
 *     const api = plane().kubeConfig.makeApiClient(CustomObjectsApi);
 *     // ...
 *   });
 * });
 * ```
 */
export function describeWithControlPlane(
  name: string,
  body: (plane: () => ControlPlane) => void,
  options: StartControlPlaneOptions = {},
): void {
  const source = options.source ?? findControlPlaneSource();
  if (source.kind === 'unavailable') {
    const message = `no Kubernetes API server for "${name}": ${source.reason}`;
    if (process.env[REQUIRE_ENV] === '1')
      throw new ControlPlaneUnavailableError(`${message} (${REQUIRE_ENV}=1)`);
    console.warn(
      [
        '',
        '!'.repeat(100),
        `!! SKIPPED: ${message}`,
        '!! These suites need a real kube-apiserver; see test-support/kube/README.md.',
        '!'.repeat(100),
        '',
      ].join('\n'),
    );
    describe.skip(name, () => body(notStarted(name)));
    return;
  }

  describe(name, () => {
    let running: ControlPlane | undefined;
    beforeAll(
      async () => {
        running = await startControlPlane({ ...options, source });
      },
      source.kind === 'build' ? BUILD_AND_START_TIMEOUT_MS : START_TIMEOUT_MS,
    );
    afterAll(async () => {
      await running?.stop();
    }, 60_000);
    body(() => running ?? notStarted(name)());
  });
}

function notStarted(name: string): () => never {
  return () => {
    throw new Error(`the control plane for "${name}" is not running (did beforeAll fail? see above)`);
  };
}
