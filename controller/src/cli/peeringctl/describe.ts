import { InvalidArgumentError, type Command } from 'commander';
import { stringify } from 'yaml';
import { PEERING_REQUEST, PEERING_SESSION, type KindNames } from '../../operator/resources/api-group.js';
import { globalsOf } from './context.js';
import {
  clusterSource,
  connectCluster,
  defaultNamespace,
  readRequest,
  readSession,
} from './describe-cluster.js';
import {
  DEFAULT_MAX_EVENTS,
  describeRequest,
  describeSession,
  renderRequestDescription,
  renderSessionDescription,
  type RequestDescription,
  type SessionDescription,
} from './describe-render.js';
import { UsageError } from './exit-codes.js';

interface DescribeFlags {
  namespace?: string;
  kubeconfig?: string;
  events: number;
}

const KINDS: readonly KindNames[] = [PEERING_REQUEST, PEERING_SESSION];

/** `peeringctl describe`: one screen about a PeeringRequest or PeeringSession, read from the cluster. */
export function registerDescribe(program: Command): void {
  program
    .command('describe')
    .description(
      'Show a PeeringRequest (its sessions, their conditions, the last Events) or a PeeringSession, from the cluster',
    )
    .argument('<kind>', 'peeringrequest (preq) or peeringsession (psess); or <kind>/<name>')
    .argument('[name]', 'the object')
    .option(
      '-n, --namespace <ns>',
      "the object's namespace (default: the kubeconfig context's, else default)",
    )
    .option(
      '--kubeconfig <file>',
      'kubeconfig to use (default: $KUBECONFIG, the ServiceAccount in a pod, ~/.kube/config)',
    )
    .option(
      '--events <n>',
      'how many of the most recent Events to show (0: none)',
      eventCount,
      DEFAULT_MAX_EVENTS,
    )
    .addHelpText(
      'after',
      `
Reads from the Kubernetes API, not from a Peering API: the PeeringRequest, the PeeringSessions labelled
peering.autopeer.dev/request=<name>, and the core/v1 Events of all of them. Needs get on the object, list on
peeringsessions and (for the Events part) list on events in the namespace. Colour only on a terminal (and not
with NO_COLOR); -o json|yaml prints the same data with timestamps instead of ages.

Exit codes: 0 described; 1 the cluster could not be read; 2 usage; 3 unreadable kubeconfig;
5 the cluster refused the credentials (401/403); 6 no such object, or the CRDs are not installed.

Examples:
  peeringctl describe peeringrequest as64501 -n peering
  peeringctl describe preq/as64501 -n peering --kubeconfig ~/.kube/prod --events 20
  peeringctl describe psess as64501-ix1-5d41402abc -n peering
  peeringctl describe preq as64501 -n peering -o json | jq '.sessions[] | select(.ready.status != "True")'`,
    )
    .action(
      async (kindArgument: string, nameArgument: string | undefined, flags: DescribeFlags, cmd: Command) => {
        const { kind, name } = target(kindArgument, nameArgument);
        const globals = globalsOf(cmd);
        const source = clusterSource(flags.kubeconfig);
        const namespace = flags.namespace ?? defaultNamespace(source);
        const kube = await connectCluster(source, globals.timeout);
        let description: RequestDescription | SessionDescription;
        try {
          description =
            kind === PEERING_REQUEST
              ? describeRequest(await readRequest(kube, namespace, name), { maxEvents: flags.events })
              : describeSession(await readSession(kube, namespace, name), { maxEvents: flags.events });
        } finally {
          await kube.close();
        }
        if (globals.output === 'json') process.stdout.write(`${JSON.stringify(description, null, 2)}\n`);
        else if (globals.output === 'yaml') process.stdout.write(stringify(description));
        else {
          const options = {
            now: new Date(),
            colour: process.stdout.isTTY === true && !process.env['NO_COLOR'],
          };
          process.stdout.write(
            description.kind === 'PeeringRequest'
              ? renderRequestDescription(description, options)
              : renderSessionDescription(description, options),
          );
        }
      },
    );
}

/** `preq NAME`, `peeringrequests/NAME`, `PeeringSession NAME`…: the kind by any of its names, as kubectl takes it. */
function target(kindArgument: string, nameArgument: string | undefined): { kind: KindNames; name: string } {
  const slash = kindArgument.indexOf('/');
  const kindName = slash === -1 ? kindArgument : kindArgument.slice(0, slash);
  const name = slash === -1 ? nameArgument : kindArgument.slice(slash + 1);
  const wanted = kindName.toLowerCase().replace(/\.peering\.autopeer\.dev$/, '');
  const kind = KINDS.find((k) =>
    [k.kind.toLowerCase(), k.singular, k.plural, ...k.shortNames].includes(wanted),
  );
  if (kind === undefined) {
    throw new UsageError(
      `cannot describe "${kindName}": give peeringrequest (preq) or peeringsession (psess)`,
    );
  }
  if (slash !== -1 && nameArgument !== undefined) {
    throw new UsageError(`give the name once: ${kindArgument} or ${kindName} ${nameArgument}`);
  }
  if (name === undefined || name === '') throw new UsageError(`which ${kind.singular}? give its name`);
  return { kind, name };
}

function eventCount(value: string): number {
  if (!/^\d{1,4}$/.test(value)) throw new InvalidArgumentError('expected a whole number, 0-9999');
  return Number(value);
}
