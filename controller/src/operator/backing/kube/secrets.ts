import { SecretMissingError, isNotFound } from '../errors.js';
import type { SecretReader } from '../resource-collection.js';
import type { KubeClient } from './client.js';

/** Reads Secret keys through the API (`get` on secrets is all the RBAC it needs). */
export class KubeSecretReader implements SecretReader {
  constructor(private readonly kube: KubeClient) {}

  async read(namespace: string, name: string, key: string): Promise<string> {
    let secret: { data?: Record<string, string> };
    try {
      secret = await this.kube.request(
        'GET',
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
      );
    } catch (error) {
      if (isNotFound(error)) throw new SecretMissingError(`Secret ${namespace}/${name} does not exist`);
      throw error;
    }
    const value = secret.data?.[key];
    if (value === undefined) throw new SecretMissingError(`Secret ${namespace}/${name} has no key "${key}"`);
    return Buffer.from(value, 'base64').toString('utf8');
  }
}
