import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { ControlPlaneStartError } from './errors.js';

const run = promisify(execFile);

/** Files (and the PEM the kubeconfig embeds) of a throw-away PKI for one control plane. */
export interface ControlPlaneCertificates {
  readonly caCertPath: string;
  readonly servingCertPath: string;
  readonly servingKeyPath: string;
  readonly serviceAccountPublicKeyPath: string;
  readonly serviceAccountPrivateKeyPath: string;
  readonly caCertPem: string;
  readonly adminCertPem: string;
  readonly adminKeyPem: string;
}

/** Who the admin credential is: system:masters bypasses RBAC, as a cluster admin does. */
export const ADMIN_USER = 'peering-envtest-admin';
export const ADMIN_GROUP = 'system:masters';

/**
 * Generates a CA, a serving certificate for loopback, an admin client
 * certificate and the service-account signing key pair into `dir`.
 *
 * Keys come from node:crypto; only the X.509 signing uses the openssl CLI,
 * which Node cannot do. Certificates are EC P-256 (fast to make) and valid for
 * a week: they live as long as one test run.
 */
export async function generateCertificates(dir: string): Promise<ControlPlaneCertificates> {
  const path = (name: string): string => join(dir, name);

  const ca = await writeKey(path('ca.key'));
  await openssl(dir, 'ca', ['req', '-x509', '-new', '-key', ca, '-out', path('ca.crt'), '-days', '7'], {
    subject: 'peering-envtest-ca',
    extensions: [
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign, digitalSignature',
      'subjectKeyIdentifier = hash',
    ],
  });

  await issue(dir, 'serving', {
    subject: 'kube-apiserver',
    extensions: [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth',
      // kubernetes.default.* so in-cluster style clients verify too.
      'subjectAltName = IP:127.0.0.1, IP:10.0.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local',
    ],
  });

  await issue(dir, 'admin', {
    subject: ADMIN_USER,
    organization: ADMIN_GROUP,
    extensions: [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = clientAuth',
    ],
  });

  // kube-apiserver will not start without an issuer key pair: it signs
  // TokenRequest tokens, which least-privilege tests use as a real
  // ServiceAccount identity.
  const serviceAccount = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  await writeFile(path('sa.key'), serviceAccount.privateKey, { mode: 0o600 });
  await writeFile(path('sa.pub'), serviceAccount.publicKey);

  return {
    caCertPath: path('ca.crt'),
    servingCertPath: path('serving.crt'),
    servingKeyPath: path('serving.key'),
    serviceAccountPublicKeyPath: path('sa.pub'),
    serviceAccountPrivateKeyPath: path('sa.key'),
    caCertPem: await readFile(path('ca.crt'), 'utf8'),
    adminCertPem: await readFile(path('admin.crt'), 'utf8'),
    adminKeyPem: await readFile(path('admin.key'), 'utf8'),
  };
}

interface CertificateRequest {
  readonly subject: string;
  readonly organization?: string;
  readonly extensions: readonly string[];
}

async function issue(dir: string, name: string, request: CertificateRequest): Promise<void> {
  const key = await writeKey(join(dir, `${name}.key`));
  const csr = join(dir, `${name}.csr`);
  await openssl(dir, name, ['req', '-new', '-key', key, '-out', csr], request);
  await openssl(
    dir,
    name,
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      join(dir, 'ca.crt'),
      '-CAkey',
      join(dir, 'ca.key'),
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      '7',
      '-out',
      join(dir, `${name}.crt`),
    ],
    request,
  );
}

async function writeKey(file: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  await writeFile(file, privateKey, { mode: 0o600 });
  return file;
}

/**
 * Runs openssl with a config file of our own, so neither the system's
 * openssl.cnf defaults nor its version's CLI quirks decide what goes into
 * the certificate.
 */
async function openssl(
  dir: string,
  name: string,
  args: readonly string[],
  request: CertificateRequest,
): Promise<void> {
  const config = join(dir, `${name}.cnf`);
  await writeFile(
    config,
    [
      '[req]',
      'prompt = no',
      'distinguished_name = dn',
      'x509_extensions = ext',
      '[dn]',
      ...(request.organization === undefined ? [] : [`O = ${request.organization}`]),
      `CN = ${request.subject}`,
      '[ext]',
      ...request.extensions,
      '',
    ].join('\n'),
  );
  const extensionArgs = args[0] === 'x509' ? ['-extfile', config, '-extensions', 'ext'] : ['-config', config];
  try {
    await run('openssl', [...args, ...extensionArgs], { cwd: dir });
  } catch (error) {
    const detail = error as NodeJS.ErrnoException & { stderr?: string };
    if (detail.code === 'ENOENT') {
      throw new ControlPlaneStartError(
        'the openssl command is needed to sign the control plane certificates; install it (Debian: apt-get install openssl)',
      );
    }
    throw new ControlPlaneStartError(
      `openssl ${args[0] ?? ''} for ${name} failed: ${detail.stderr ?? detail.message}`,
    );
  }
}
