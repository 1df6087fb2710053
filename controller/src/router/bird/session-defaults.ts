import { z } from 'zod';
import { loadValidatedYaml } from '../../config/validated-file.js';
import { DesiredSessionSchema } from '../driver.js';
import type { SessionDefaults } from './bird-driver.js';

const field = DesiredSessionSchema.shape;

/**
 * What every session on one BIRD gets unless it says otherwise: the router-wide choices of filters, ports,
 * timers and multihop (`BirdRouterDriverOptions.sessionDefaults`), validated by the same rules as a session.
 */
export const SessionDefaultsSchema = z.strictObject({
  importFilter: field.importFilter,
  exportFilter: field.exportFilter,
  timers: field.timers,
  passive: field.passive,
  localPort: field.localPort,
  peerPort: field.peerPort,
  multihop: field.multihop,
  requireRoles: field.requireRoles,
});

/**
 * Reads session defaults from a YAML file (`peering-operator run --bird-session-defaults`); a bad field is an
 * `INVALID_CONFIG` error naming it.
 *
 * @example
 * // bird-sessions.yaml:  { importFilter: peer_in, exportFilter: peer_out, timers: { hold: 90, keepalive: 30 } }
 * const router = new BirdRouterDriver({ socketPath, includeDir, sessionDefaults: await loadSessionDefaults(path) });
 */
export async function loadSessionDefaults(path: string): Promise<SessionDefaults> {
  return loadValidatedYaml(SessionDefaultsSchema, path, 'birdSessionDefaults');
}
