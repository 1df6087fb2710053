import { ERROR_CATALOG } from '../../src/domain/errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { openApiDocument } from '../../src/api/openapi.js';
import { REPO_ROOT } from '../support/sample.js';

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

describe('docs/api.md', () => {
  test('documents every code of the error catalog', () => {
    const page = readFileSync(join(REPO_ROOT, 'docs', 'api.md'), 'utf8');
    const missing = Object.keys((openApiDocument() as { 'x-error-codes': object })['x-error-codes']).filter(
      (code) => !new RegExp(`\\|\\s*\`${code}\`\\s*\\|`).test(page),
    );
    expect(missing).toEqual([]);
  });
});
