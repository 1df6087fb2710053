import type { z } from 'zod';
import type { ErrorCode, FieldError } from '../domain/errors.js';

/** `['sessions', 2, 'peer_ip']` → `sessions[2].peer_ip`. */
export function fieldPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? 'request' : out;
}

/** Zod issues → wire errors, one per field, each naming the field path. */
export function issuesToFieldErrors(issues: readonly z.core.$ZodIssue[], prefix = ''): FieldError[] {
  const byField = new Map<string, FieldError>();
  for (const issue of issues) {
    const name = fieldPath(issue.path, prefix);
    const code: ErrorCode = isMissing(issue) ? 'MISSING_FIELD' : 'INVALID_FIELD';
    const entry = byField.get(name);
    const message = describe(issue);
    if (entry) entry.errors.push(message);
    else byField.set(name, { name, code, errors: [message] });
  }
  return [...byField.values()];
}

function isMissing(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'invalid_type' && issue.message.includes('received undefined');
}

function describe(issue: z.core.$ZodIssue): string {
  if (isMissing(issue)) return 'is required';
  return issue.message;
}
