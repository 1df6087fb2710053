import { ERROR_CATALOG } from '../../src/domain/errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { openApiDocument } from '../../src/api/openapi.js';
import { startTestApi } from '../support/api-server.js';
import { call } from '../support/conformance.js';
import { EXAMPLES_DIR, REPO_ROOT } from '../support/sample.js';

const checkedIn = join(REPO_ROOT, 'openapi', 'peering-api.json');

describe('our OpenAPI document', () => {
  test('passes a real OpenAPI 3.1 validator', async () => {
    const result = await new Validator().validate(openApiDocument() as never);
    expect(result).toEqual({ valid: true });
  });

  test('the checked-in copy matches the schemas the server validates with (run scripts/generate-openapi.mjs)', () => {
    expect(JSON.parse(readFileSync(checkedIn, 'utf8'))).toEqual(openApiDocument());
  });

  test('documents every error code of the catalog and the bearer scheme', () => {
    const doc = openApiDocument() as {
      components: { securitySchemes: Record<string, unknown> };
      'x-error-codes': Record<string, unknown>;
    };
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    // Every code, with the status it answers and its summary: none missing, none extra, none drifted.
    expect(doc['x-error-codes']).toEqual(
      Object.fromEntries(
        Object.entries(ERROR_CATALOG).map(([code, entry]) => [
          code,
          { status: entry.status, summary: entry.summary },
        ]),
      ),
    );
    expect(Object.keys(doc['x-error-codes']).length).toBeGreaterThan(30);
  });
});

describe('the document is as strict as the server (issue 14)', () => {
  type Operation = {
    operationId: string;
    tags?: string[];
    description?: string;
    parameters?: { name: string; schema: Record<string, unknown> }[];
    requestBody?: { content: Record<string, { examples?: Record<string, { value: unknown }> }> };
    responses: Record<string, { links?: Record<string, { operationId: string; parameters: object }> }>;
  };
  const doc = openApiDocument() as {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, unknown> };
  };
  const operations = Object.values(doc.paths).flatMap((path) =>
    Object.entries(path)
      .filter(([method]) => method !== 'parameters')
      .map(([, operation]) => operation),
  );

  test('every operation has tags, a description and declares 406', () => {
    for (const operation of operations) {
      expect([
        operation.operationId,
        Boolean(operation.tags?.length),
        Boolean(operation.description),
      ]).toEqual([operation.operationId, true, true]);
      expect(Object.keys(operation.responses)).toContain('406');
    }
  });

  test('query integers are integers with the ranges the server checks', () => {
    const parameters = operations.flatMap((o) => o.parameters ?? []);
    const asn = parameters.filter((p) => p.name === 'asn').map((p) => p.schema);
    const maxResults = parameters.filter((p) => p.name === 'max_results').map((p) => p.schema);
    expect(asn).toEqual(Array(2).fill({ type: 'integer', minimum: 1, maximum: 4294967295 }));
    expect(maxResults).toEqual(Array(2).fill({ type: 'integer', minimum: 0, maximum: 100 }));
  });

  test('request objects refuse __proto__ keys and carry no field examples; every component is used', () => {
    const requestObjects: Record<string, unknown>[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === 'object' && node !== null) {
        const object = node as Record<string, unknown>;
        if (object.type === 'object') requestObjects.push(object);
        expect(Object.keys(object)).not.toContain('example');
        Object.values(object).forEach(walk);
      }
    };
    for (const name of ['SessionInput', 'SessionArrayRequest', 'SessionReferenceArray'])
      walk(doc.components.schemas[name]);
    expect(requestObjects.length).toBeGreaterThan(4);
    for (const object of requestObjects)
      expect(object.propertyNames).toEqual({ not: { const: '__proto__' } });
    const everything = JSON.stringify(doc);
    for (const name of Object.keys(doc.components.schemas))
      expect([name, everything.includes(`"#/components/schemas/${name}"`)]).toEqual([name, true]);
  });

  test('the answers of POST and GET /sessions link to the by-id operations', () => {
    const ids = new Set(operations.map((o) => o.operationId));
    for (const method of ['post', 'get']) {
      const links = doc.paths['/sessions']![method]!.responses['200']!.links ?? {};
      expect(
        Object.values(links)
          .map((l) => l.operationId)
          .sort(),
      ).toEqual(['deleteSession', 'getSession']);
      for (const link of Object.values(links)) {
        expect(ids.has(link.operationId)).toBe(true);
        expect(link.parameters).toEqual({ session_id: '$response.body#/sessions/0/session_id' });
      }
    }
  });
});

describe('the request example', () => {
  test('is accepted as it is by a server on the example data (examples/peeringdb)', async () => {
    const api = await startTestApi({
      config: { asns: [64500] },
      peeringDbDir: join(EXAMPLES_DIR, 'peeringdb'),
      tokens: [
        { token: 'token-as64501-example-0001', subject: 'noc', networks: [{ asn: 64501, perms: 15 }] },
      ],
    });
    try {
      const doc = openApiDocument() as {
        paths: { '/sessions': { post: { requestBody: { content: Record<string, { examples: object }> } } } };
      };
      const examples = Object.values(
        doc.paths['/sessions'].post.requestBody.content['application/json']!.examples,
      );
      expect(examples.length).toBeGreaterThan(0);
      for (const { value } of examples as { value: unknown }[]) {
        const answer = await call<{ errors: unknown[]; sessions: unknown[] }>(
          api.baseUrl,
          'POST',
          '/sessions',
          {
            token: 'token-as64501-example-0001',
            body: value,
          },
        );
        expect([answer.status, answer.body.errors]).toEqual([200, []]);
        expect(answer.body.sessions).toHaveLength(1);
      }
    } finally {
      await api.stop();
    }
  });
});

describe('docs/api.md', () => {
  test('documents every code of the error catalog', () => {
    const page = readFileSync(join(REPO_ROOT, 'docs', 'api.md'), 'utf8');
    const missing = Object.keys((openApiDocument() as { 'x-error-codes': object })['x-error-codes']).filter(
      (code) => !new RegExp(`\\|\\s*\`${code}\`\\s*\\|`).test(page),
    );
    expect(missing).toEqual([]);
  });
});
