import { readdir, readFile, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { extname, join } from 'node:path';

import {
  ApiException,
  ApiextensionsV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

import { CrdNotEstablishedError, CrdSourceError } from './errors.js';
import { sleep } from './supervised-process.js';

/**
 * CustomResourceDefinitions to install: a directory (its `.yaml`, `.yml` and
 * `.json` files, not recursive), a list of files or directories, or objects.
 */
export type CrdSource = string | readonly string[] | readonly KubernetesObject[];

const ESTABLISH_TIMEOUT_MS = 30_000;

/**
 * Creates or replaces each CRD, then waits until all are Established.
 * `created` names those that did not exist before, so an existing cluster can
 * be left as it was found.
 */
export async function installCRDs(
  kubeConfig: KubeConfig,
  source: CrdSource,
): Promise<{ installed: V1CustomResourceDefinition[]; created: string[] }> {
  const definitions = await readCrdSource(source);
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const created: string[] = [];
  for (const definition of definitions) {
    if (await createOrReplace(kubeConfig, api, definition)) created.push(crdName(definition));
  }
  const installed = [];
  for (const definition of definitions) installed.push(await waitUntilEstablished(api, crdName(definition)));
  return { installed, created };
}

/** Deletes the named CRDs; one already gone is no failure. */
export async function uninstallCRDs(api: ApiextensionsV1Api, names: readonly string[]): Promise<void> {
  for (const name of names) {
    try {
      await api.deleteCustomResourceDefinition({ name });
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 404)) throw error;
    }
  }
}

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

async function createOrReplace(
  kubeConfig: KubeConfig,
  api: ApiextensionsV1Api,
  definition: V1CustomResourceDefinition,
): Promise<boolean> {
  const name = crdName(definition);
  try {
    await sendJson(kubeConfig, 'POST', CRD_PATH, definition);
    return true;
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
  }
  // Already there (an existing cluster, or a second install in one suite):
  // replace it, retrying if someone else changed it between read and write.
  for (let attempt = 1; ; attempt++) {
    const current = await api.readCustomResourceDefinition({ name });
    const body = {
      ...definition,
      metadata: { ...definition.metadata, name, resourceVersion: current.metadata?.resourceVersion },
    };
    try {
      await sendJson(kubeConfig, 'PUT', `${CRD_PATH}/${encodeURIComponent(name)}`, body);
      return false;
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 409) || attempt === 3) throw error;
    }
  }
}

/**
 * Sends `body` exactly as given. Not through ApiextensionsV1Api: client-node's
 * model serializer keeps only the properties its generated classes name in
 * camelCase, so a CRD read from YAML silently loses `x-kubernetes-validations`,
 * `x-kubernetes-preserve-unknown-fields` and every other `x-kubernetes-*` key,
 * and the API server then installs a CRD without its CEL rules.
 * Failures are thrown as client-node's ApiException, like the generated APIs do.
 */
async function sendJson(
  kubeConfig: KubeConfig,
  method: 'POST' | 'PUT',
  path: string,
  body: unknown,
): Promise<unknown> {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (server === undefined) throw new Error('the kubeconfig has no current cluster');
  // A server URL may carry a path prefix (behind a proxy); keep it.
  const url = new URL(server);
  url.pathname = `${url.pathname.replace(/\/$/, '')}${path}`;
  const options: RequestOptions = {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    timeout: 30_000,
  };
  await kubeConfig.applyToHTTPSOptions(options);
  const payload = JSON.stringify(body);
  const { status, headers, text } = await new Promise<{
    status: number;
    headers: IncomingHttpHeaders;
    text: string;
  }>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text }),
      );
      response.on('error', reject);
    });
    request.once('timeout', () => request.destroy(new Error(`${method} ${url} timed out`)));
    request.once('error', reject);
    request.end(payload);
  });
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (a proxy's error page): keep the text
  }
  if (status >= 200 && status < 300) return parsed;
  const message = (parsed as { message?: string } | undefined)?.message ?? text;
  throw new ApiException(
    status,
    `${method} ${path}: HTTP ${status}: ${message}`,
    parsed,
    Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, String(value)])),
  );
}

async function waitUntilEstablished(
  api: ApiextensionsV1Api,
  name: string,
): Promise<V1CustomResourceDefinition> {
  const deadline = Date.now() + ESTABLISH_TIMEOUT_MS;
  for (;;) {
    const crd = await api.readCustomResourceDefinition({ name });
    const conditions = crd.status?.conditions ?? [];
    const namesAccepted = conditions.find((condition) => condition.type === 'NamesAccepted');
    if (namesAccepted?.status === 'False') {
      throw new CrdNotEstablishedError(
        `CRD ${name}: names not accepted: ${namesAccepted.message ?? namesAccepted.reason}`,
      );
    }
    if (conditions.some((condition) => condition.type === 'Established' && condition.status === 'True'))
      return crd;
    if (Date.now() > deadline) {
      throw new CrdNotEstablishedError(
        `CRD ${name} was not Established within ${ESTABLISH_TIMEOUT_MS} ms; conditions: ${JSON.stringify(conditions)}`,
      );
    }
    await sleep(100);
  }
}

async function readCrdSource(source: CrdSource): Promise<V1CustomResourceDefinition[]> {
  if (typeof source === 'string') return readPath(source);
  const definitions: V1CustomResourceDefinition[] = [];
  for (const item of source) {
    if (typeof item === 'string') definitions.push(...(await readPath(item)));
    else definitions.push(asCrd(item, 'the objects passed to installCRDs'));
  }
  return definitions;
}

async function readPath(path: string): Promise<V1CustomResourceDefinition[]> {
  let files: string[];
  try {
    files = (await stat(path)).isDirectory()
      ? (await readdir(path))
          .filter((file) => ['.yaml', '.yml', '.json'].includes(extname(file)))
          .sort()
          .map((file) => join(path, file))
      : [path];
  } catch (error) {
    throw new CrdSourceError(`cannot read CRDs from ${path}: ${(error as Error).message}`);
  }
  if (files.length === 0) throw new CrdSourceError(`${path} holds no .yaml, .yml or .json file`);
  const definitions: V1CustomResourceDefinition[] = [];
  for (const file of files) {
    // JSON is YAML, so one parser reads both.
    for (const document of parseAllDocuments(await readFile(file, 'utf8'))) {
      if (document.errors.length > 0) {
        throw new CrdSourceError(
          `${file}: not valid YAML: ${document.errors.map((e) => e.message).join('; ')}`,
        );
      }
      const object: unknown = document.toJS();
      if (object === null || object === undefined) continue; // an empty document, e.g. after a trailing ---
      definitions.push(asCrd(object, file));
    }
  }
  return definitions;
}

function asCrd(object: unknown, origin: string): V1CustomResourceDefinition {
  const candidate = object as Partial<KubernetesObject>;
  if (candidate.apiVersion !== 'apiextensions.k8s.io/v1' || candidate.kind !== 'CustomResourceDefinition') {
    throw new CrdSourceError(
      `${origin}: expected apiextensions.k8s.io/v1 CustomResourceDefinition, found ${candidate.apiVersion ?? '(no apiVersion)'} ${candidate.kind ?? '(no kind)'}`,
    );
  }
  if (!candidate.metadata?.name)
    throw new CrdSourceError(`${origin}: a CustomResourceDefinition without metadata.name`);
  return candidate as V1CustomResourceDefinition;
}

function crdName(definition: V1CustomResourceDefinition): string {
  // asCrd checked it; the type cannot say so.
  return definition.metadata?.name ?? '';
}
