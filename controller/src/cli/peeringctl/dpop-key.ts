import type { Command } from 'commander';
import { DpopKey } from '../../auth/dpop-key.js';
import { PeeringError } from '../../domain/errors.js';
import { UsageError } from './exit-codes.js';

/**
 * `peeringctl dpop-key FILE`: makes a DPoP key (an ES256 private JWK, mode 0600) or reads the one there, and
 * prints its thumbprint, the `cnf.jkt` of tokens bound to it. The file is what a Kubernetes Secret holds for
 * an operator's `dpopKeySecretRef`.
 */
export function registerDpopKey(program: Command): void {
  program
    .command('dpop-key')
    .argument('<file>', 'the JWK file: made (mode 0600) when absent, never overwritten')
    .description('Make or read a DPoP key (RFC 9449) and print its JWK thumbprint')
    .addHelpText(
      'after',
      `
Examples:
  peeringctl dpop-key ~/.config/peeringctl/dpop.jwk            # then: peeringctl --dpop-key … list
  peeringctl dpop-key as64501.jwk && kubectl create secret generic peering-as64501 \\
    --from-literal=clientSecret=… --from-file=dpop.jwk=as64501.jwk   # an operator's dpopKeySecretRef
Rotation: make a new file, replace the Secret's key; the operator gets tokens bound to the new key.`,
    )
    .action(async (file: string) => {
      try {
        const key = await DpopKey.fromFile(file);
        process.stdout.write(`${key.thumbprint}\n`);
      } catch (error) {
        if (error instanceof PeeringError) throw new UsageError(error.message);
        throw error;
      }
    });
}
