import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { parse } from 'yaml';
import { PeeringError } from '../../../domain/errors.js';

/**
 * What the operator's Kubernetes client needs from a kubeconfig: the server, and TLS material and headers for
 * each request. `@kubernetes/client-node`'s `KubeConfig` has this shape too, so either can be given.
 */
export interface KubeCredentials {
  getCurrentCluster(): { server: string } | null;
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: {
    name: string;
    cluster: {
      server: string;
      'certificate-authority'?: string;
      'certificate-authority-data'?: string;
      'insecure-skip-tls-verify'?: boolean;
      'tls-server-name'?: string;
    };
  }[];
  users?: {
    name: string;
    user: {
      token?: string;
      tokenFile?: string;
      'client-certificate'?: string;
      'client-certificate-data'?: string;
      'client-key'?: string;
      'client-key-data'?: string;
      exec?: unknown;
      'auth-provider'?: unknown;
    };
  }[];
}

/**
 * Credentials from a kubeconfig file (client certificates, tokens, token files) or from the pod's
 * ServiceAccount. Loading `@kubernetes/client-node` costs the operator about 55 MiB of memory for what is,
 * in a pod, a token file and a CA; only kubeconfigs with `exec` or `auth-provider` users need the library, and
 * get it (loaded on demand).
 *
 * @example
 * const credentials = await loadKubeCredentials(process.env.KUBECONFIG);
 * const kube = await KubeClient.connect(credentials);
 */
export async function loadKubeCredentials(path?: string): Promise<KubeCredentials> {
  if (path === undefined) return inClusterCredentials();
  let file: KubeconfigFile;
  try {
    file = parse(readFileSync(path, 'utf8')) as KubeconfigFile;
  } catch (error) {
    throw new PeeringError(
      'INVALID_CONFIG',
      `cannot read kubeconfig ${path}: ${(error as Error).message}`,
      'kubeconfig',
    );
  }
  const context = file.contexts?.find((c) => c.name === file['current-context'])?.context;
  const cluster = file.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = file.users?.find((u) => u.name === context?.user)?.user;
  if (!context || !cluster) {
    throw new PeeringError(
      'INVALID_CONFIG',
      `kubeconfig ${path}: no current context with a cluster`,
      'kubeconfig',
    );
  }
  if (user?.exec !== undefined || user?.['auth-provider'] !== undefined) {
    // Credential plugins are the library's business.
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(path);
    return kubeConfig;
  }
  const data = (inline: string | undefined, file: string | undefined) =>
    inline !== undefined
      ? Buffer.from(inline, 'base64')
      : file !== undefined
        ? readFileSync(file)
        : undefined;
  const tls: RequestOptions = {
    ca: data(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: data(user?.['client-certificate-data'], user?.['client-certificate']),
    key: data(user?.['client-key-data'], user?.['client-key']),
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    ...(cluster['tls-server-name'] ? { servername: cluster['tls-server-name'] } : {}),
  };
  const token = () =>
    user?.token ?? (user?.tokenFile ? readFileSync(user.tokenFile, 'utf8').trim() : undefined);
  return credentials(cluster.server, tls, token);
}

function inClusterCredentials(): KubeCredentials {
  const host = process.env['KUBERNETES_SERVICE_HOST'];
  const port = process.env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (!host) {
    throw new PeeringError(
      'INVALID_CONFIG',
      'not running in a cluster: give --kubeconfig <file>, or --standalone --manifests <dir> for the embedded mode',
      'kubeconfig',
    );
  }
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  // The kubelet rotates the projected token; it is read again with every refresh of the headers.
  return credentials(server, { ca: readFileSync(`${SERVICE_ACCOUNT}/ca.crt`) }, () =>
    readFileSync(`${SERVICE_ACCOUNT}/token`, 'utf8').trim(),
  );
}

function credentials(server: string, tls: RequestOptions, token: () => string | undefined): KubeCredentials {
  return {
    getCurrentCluster: () => ({ server }),
    applyToHTTPSOptions: async (options) => {
      Object.assign(options, tls);
      const value = token();
      if (value) options.headers = { ...options.headers, Authorization: `Bearer ${value}` };
    },
  };
}
