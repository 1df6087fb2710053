import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ConfigSchema } from '../../src/config/config.js';
import { REPO_ROOT } from '../support/sample.js';

/**
 * The chart's `values.schema.json` holds, under `properties.config`, the JSON Schema of the peering-operator
 * configuration, generated from the very zod schema the program validates its file with (one schema per
 * concept), so `helm install` refuses a bad configuration before a pod crash-loops on it. The rest of the values
 * schema is written by hand. `packaging/chart.test.ts` fails when the checked-in part differs from this.
 *
 * Regenerate after changing `controller/src/config/config.ts`:
 *   npm run build && node dist/controller/test/packaging/values-schema.js && npx prettier --write charts
 */
export const VALUES_SCHEMA_PATH = join(REPO_ROOT, 'charts/peering-operator/values.schema.json');

/** Keys the chart sets itself (from ports.api and its data volume); values may not set them. */
const CHART_OWNED = ['listen', 'store'] as const;

type JsonSchema = { [key: string]: unknown };

/**
 * The configuration's JSON Schema as the chart applies it.
 *
 * Two deliberate differences from the program's own check, both stricter:
 * - every object refuses unknown keys: the program strips unknown nested keys silently, so a typo such as
 *   `policy.aproval: manual` would leave approval on `auto` without a word; at install time it is an error;
 * - a static token must come from a Secret (`tokenEnv`): an inline `token` would land in a ConfigMap.
 *
 * One rule the program states as a zod refinement, which JSON Schema output leaves out, is written back: the
 * PeeringDB source is exactly one of `url` and `dataDir`. With the chart's values.yaml holding no `asns`,
 * `apiUrl` or `peeringdb` (issue 16), `required` and this rule are what make `helm install` name each missing one.
 *
 * @example
 * const schema = configValuesSchema();
 * schema.required; // ['asns', 'apiUrl', 'peeringdb']
 */
export function configValuesSchema(): JsonSchema {
  const schema = z.toJSONSchema(ConfigSchema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'any',
  }) as JsonSchema;
  delete schema.$schema;
  const properties = schema.properties as Record<string, JsonSchema>;
  for (const key of CHART_OWNED) delete properties[key];
  const staticToken = (
    ((properties.auth as JsonSchema).properties as Record<string, JsonSchema>).staticTokens as JsonSchema
  ).items as JsonSchema;
  delete (staticToken.properties as Record<string, JsonSchema>).token;
  staticToken.required = [...(staticToken.required as string[]), 'tokenEnv'];
  (properties.peeringdb as JsonSchema).oneOf = [{ required: ['url'] }, { required: ['dataDir'] }];
  closeObjects(schema);
  return schema;
}

function closeObjects(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(closeObjects);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as JsonSchema;
  if (schema.type === 'object' && schema.properties !== undefined) schema.additionalProperties = false;
  Object.values(schema).forEach(closeObjects);
}

/** The checked-in values schema (parsed). */
export function checkedInValuesSchema(path = VALUES_SCHEMA_PATH): JsonSchema {
  return JSON.parse(readFileSync(path, 'utf8')) as JsonSchema;
}

/** The checked-in values schema with its `config` part regenerated (its description kept). */
export function regeneratedValuesSchema(path = VALUES_SCHEMA_PATH): JsonSchema {
  const values = checkedInValuesSchema(path);
  const properties = values.properties as Record<string, JsonSchema>;
  properties.config = { description: properties.config?.description, ...configValuesSchema() };
  return values;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  writeFileSync(VALUES_SCHEMA_PATH, `${JSON.stringify(regeneratedValuesSchema(), null, 2)}\n`);
  console.log(`wrote ${VALUES_SCHEMA_PATH}`);
}
