import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { request } from 'undici';
import { openApiDocument } from '../../src/api/openapi.js';

type Json = Record<string, unknown>;
const doc = openApiDocument() as Json & {
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Json };
};

const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ strict: false, allErrors: true });
(addFormats as unknown as typeof addFormats.default)(ajv);
const validators = new Map<string, ValidateFunction>();
const defs = JSON.parse(
  JSON.stringify(doc.components.schemas).replaceAll('#/components/schemas/', '#/$defs/'),
) as Json;

function validatorFor(schema: Json): ValidateFunction {
  const key = JSON.stringify(schema);
  let fn = validators.get(key);
  if (!fn) {
    fn = ajv.compile({ ...JSON.parse(key.replaceAll('#/components/schemas/', '#/$defs/')), $defs: defs });
    validators.set(key, fn);
  }
  return fn;
}

/** The OpenAPI path template a concrete path under the base path matches, e.g. `/sessions/{session_id}`. */
function templateOf(path: string): string | undefined {
  return Object.keys(doc.paths).find((template) =>
    new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
  );
}

/**
 * Checks that a response is one the OpenAPI document declares: the status code for that operation, and the
 * body against its schema. Throws with the validator's errors otherwise.
 */
export function assertConforms(method: string, path: string, status: number, body: unknown): void {
  const template = templateOf(path);
  if (!template) throw new Error(`${path} is not in the OpenAPI document`);
  const operation = doc.paths[template]?.[method.toLowerCase()] as
    { responses: Record<string, Json> } | undefined;
  if (!operation) {
    // Unsupported methods on known paths answer 405 in the error shape.
    if (status !== 405)
      throw new Error(`${method} ${template} is not in the OpenAPI document (got ${status})`);
    return assertErrorShape(body);
  }
  const response = operation.responses[String(status)];
  if (!response)
    throw new Error(`${method} ${template} does not declare status ${status}: ${JSON.stringify(body)}`);
  const content = response.content as Record<string, { schema: Json }> | undefined;
  if (!content) {
    if (body !== undefined && body !== '')
      throw new Error(`${method} ${template} ${status} must have no body`);
    return;
  }
  const validate = validatorFor(content['application/json']!.schema);
  if (!validate(body)) {
    throw new Error(
      `${method} ${template} ${status} does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
    );
  }
}

function assertErrorShape(body: unknown): void {
  const validate = validatorFor({ $ref: '#/components/schemas/Error' });
  if (!validate(body)) throw new Error(`not an error body: ${JSON.stringify(body)}`);
}

export interface ApiAnswer<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

/**
 * One HTTP call to a real server, and the answer checked against our OpenAPI document (every response any
 * test receives must conform). `body` objects are sent as JSON; strings and Buffers are sent as they are.
 */
export async function call<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; conform?: boolean } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: string | Buffer | undefined;
  if (options.body !== undefined) {
    payload =
      typeof options.body === 'string' || Buffer.isBuffer(options.body)
        ? options.body
        : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await request(`${baseUrl}${path}`, {
    method: method as 'GET',
    headers,
    body: payload,
  });
  const text = await response.body.text();
  let body: unknown = text;
  if ((response.headers['content-type'] ?? '').toString().includes('json') && text !== '')
    body = JSON.parse(text);
  if (text === '') body = undefined;
  const apiPath = new URL(`${baseUrl}${path}`).pathname.replace(/^\/v0\.1/, '');
  if (options.conform !== false) {
    if (response.statusCode >= 500) throw new Error(`server answered ${response.statusCode}: ${text}`);
    assertConforms(method, apiPath.replace(/\/$/, '') || '/', response.statusCode, body);
    if (!response.headers['x-request-id']) throw new Error('no x-request-id header');
  }
  return { status: response.statusCode, headers: response.headers, body: body as T, text };
}
