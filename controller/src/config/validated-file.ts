import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { PeeringError } from '../domain/errors.js';

/**
 * Validates parsed input against a schema; on failure one `INVALID_CONFIG` error lists every offending field
 * path, so a person fixes a file in one pass.
 */
export function parseValidated<T extends z.ZodType>(
  schema: T,
  raw: unknown,
  source: string,
  field: string,
): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map(
    (issue) => `  ${issue.path.join('.') || '(top level)'}: ${issue.message}`,
  );
  throw new PeeringError(
    'INVALID_CONFIG',
    `${source} is not valid:\n${lines.join('\n')}`,
    parsed.error.issues[0]?.path.join('.') || field,
  );
}

/**
 * Reads a YAML file (JSON is a subset) strictly — a repeated key is an error, not a silent override — and
 * validates it against a schema.
 *
 * @example
 * const config = await loadValidatedYaml(ConfigSchema, 'config.yaml', 'config');
 */
export async function loadValidatedYaml<T extends z.ZodType>(
  schema: T,
  path: string,
  field: string,
): Promise<z.output<T>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new PeeringError('INVALID_CONFIG', `cannot read ${path}: ${(cause as Error).message}`, field, {
      cause,
    });
  }
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new PeeringError(
      'INVALID_CONFIG',
      `${path} is not valid YAML: ${document.errors[0]?.message ?? ''}`,
      field,
    );
  }
  return parseValidated(schema, document.toJS(), path, field);
}
