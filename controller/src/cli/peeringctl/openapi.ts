import type { Command } from 'commander';
import { stringify } from 'yaml';
import { globalsOf, openClient } from './context.js';

/** `peeringctl openapi`: the remote's OpenAPI document. */
export function registerOpenapi(program: Command): void {
  program
    .command('openapi')
    .description("Print the remote Peering API's OpenAPI document (JSON; YAML with -o yaml)")
    .addHelpText(
      'after',
      `
Examples:
  peeringctl openapi --api-url https://peering.example.net/v0.1 > peer-openapi.json
  peeringctl openapi -o yaml | less`,
    )
    .action(async (_options: unknown, command: Command) => {
      const globals = globalsOf(command);
      const client = await openClient(globals);
      try {
        const document = await client.openapi();
        process.stdout.write(
          globals.output === 'yaml' ? stringify(document) : `${JSON.stringify(document, null, 2)}\n`,
        );
      } finally {
        await client.close();
      }
    });
}
