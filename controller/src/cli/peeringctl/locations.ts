import { Option, type Command } from 'commander';
import { globalsOf, openClient, parse } from './context.js';
import { locationView, print, type LocationView } from './output.js';

/** `peeringctl locations`: where the remote network offers peering (`GET /locations`). */
export function registerLocations(program: Command): void {
  program
    .command('locations')
    .description(
      'List where the remote network offers peering (its GET /locations), with its addresses there',
    )
    .option('--peer-asn <asn>', "the remote network's ASN to peer with (default: all of its ASNs)", parse.asn)
    .addOption(
      new Option('--type <type>', 'only public (IX) or private (facility) locations').choices([
        'public',
        'private',
      ]),
    )
    .option('--page-size <n>', 'locations per page asked of the API (1-100)', parse.pageSize)
    .addHelpText(
      'after',
      `
The peer's addresses are the "local_ips" of its answer (the server's own), shown from your view as PEER IPS.

Examples:
  peeringctl locations --api-url https://peering.example.net/v0.1 --token "$TOKEN" --peer-asn 64500
  peeringctl locations --peer-asn 64500 --type public -o json | jq -r '.locations[].id'`,
    )
    .action(
      async (
        options: { peerAsn?: number; type?: 'public' | 'private'; pageSize?: number },
        command: Command,
      ) => {
        const globals = globalsOf(command);
        const client = await openClient(globals);
        try {
          const locations: LocationView[] = [];
          for await (const location of client.listLocations({
            asn: options.peerAsn,
            locationType: options.type,
            maxResults: options.pageSize,
          })) {
            locations.push(locationView(location));
          }
          print(globals.output, { locations }, () => ({
            columns: ['LOCATION', 'TYPE', 'NAME', 'PEER ASN', 'PEER IPS'],
            rows: locations.map((l) => [l.id, l.type, l.name, l.peer_asn, l.peer_ips?.join(',')]),
          }));
        } finally {
          await client.close();
        }
      },
    );
}
