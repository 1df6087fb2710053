#!/usr/bin/env node
// Writes openapi/peering-api.json from the schemas the server validates with (run after `npm run build`).
// The test suite fails when the checked-in file differs from what this produces.
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../dist/controller/src/api/openapi.js';

writeFileSync(
  new URL('../openapi/peering-api.json', import.meta.url),
  `${JSON.stringify(openApiDocument(), null, 2)}\n`,
);
console.log('wrote openapi/peering-api.json');
