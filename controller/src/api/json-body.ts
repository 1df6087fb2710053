import { PeeringError } from '../domain/errors.js';

const MAX_DEPTH = 32;
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Parses a JSON request body strictly: invalid UTF-8, repeated keys, `__proto__` keys and nesting deeper than
 * any Peering API body needs are refused with a field name, instead of being silently resolved by
 * `JSON.parse` (which keeps the last duplicate and happily builds prototype-polluting objects).
 */
export function parseJsonBody(raw: Buffer): unknown {
  let text: string;
  try {
    text = decoder.decode(raw);
  } catch {
    throw new PeeringError('MALFORMED_BODY', 'the body is not valid UTF-8', 'request');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PeeringError(
      'MALFORMED_BODY',
      `the body is not valid JSON: ${(error as Error).message}`,
      'request',
    );
  }
  if (typeof value === 'object' && value !== null) checkStructure(text);
  return value;
}

/**
 * One pass over already-valid JSON text tracking the keys of each open object. Valid input means strings and
 * structure need no error handling here, only bookkeeping.
 */
function checkStructure(text: string): void {
  const stack: { keys: Set<string> | undefined; path: string; index: number }[] = [];
  let expectingKey = false;
  let lastKey = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectingKey && top?.keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const path = top.path === '' ? key : `${top.path}.${key}`;
        if (key === '__proto__')
          throw new PeeringError('INVALID_FIELD', 'the key "__proto__" is not allowed', path);
        if (top.keys.has(key))
          throw new PeeringError('DUPLICATE_KEY', `the key "${key}" appears twice`, path);
        top.keys.add(key);
        lastKey = path;
        expectingKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      const top = stack[stack.length - 1];
      const path = top === undefined ? '' : top.keys ? lastKey : `${top.path}[${top.index}]`;
      if (stack.length >= MAX_DEPTH) {
        // Name the top-level field that nests too deeply; a path 32 levels long helps nobody.
        const field = /^[^.[]+/.exec(path)?.[0] ?? 'request';
        throw new PeeringError('TOO_DEEP', `the body nests deeper than ${MAX_DEPTH} levels`, field);
      }
      stack.push({ keys: c === '{' ? new Set() : undefined, path, index: 0 });
      expectingKey = c === '{';
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectingKey = false;
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.keys) expectingKey = true;
      else if (top) top.index += 1;
    }
  }
}
