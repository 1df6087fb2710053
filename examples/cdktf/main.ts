/**
 * Cloudflare (AS13335) peers with Google (AS15169) at AMS-IX (PeeringDB ix 26), over IPv4 and IPv6, with the
 * addresses both networks registered there in PeeringDB (2022 snapshot).
 *
 *   npm run build                                   # compiles the constructs, peeringctl and this example
 *   cd examples/cdktf                               # cdktf keeps the local state where the app runs
 *   node ../../dist/examples/cdktf/main.js          # writes cdktf.out/stacks/peering/cdk.tf.json
 *   node ../../dist/examples/cdktf/main.js --yaml   # prints the same peering as PeeringRequest YAML
 *   cd cdktf.out/stacks/peering && terraform init && terraform plan
 *
 * Each session is a `peering_session` of our provider, peering-operator/peering (scripts/setup.d/
 * 41-terraform-peering.sh builds it into a filesystem mirror; docs/terraform.md says how Terraform finds it). At
 * apply time Terraform needs two ephemeral variables: TF_VAR_PEERING_TOKEN_AS15169 (a bearer token for Google's
 * Peering API) and TF_VAR_BGP_MD5_AS15169_AMS_IX (the session secret); neither ever enters a plan or the state.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { PeeringRequest, peeringManifestsYaml } from '../../provider/src/index.js';

/** The peering stack: one PeeringRequest with Google, one session per address family. */
export class PeeringStack extends TerraformStack {
  readonly google: PeeringRequest;

  constructor(scope: Construct, id: string, options: { googleApiUrl: string }) {
    super(scope, id);
    this.google = new PeeringRequest(this, 'google', {
      localAsn: 13335,
      peerAsn: 15169,
      apiUrl: options.googleApiUrl,
      tokenEnv: 'PEERING_TOKEN_AS15169',
      sessions: [
        {
          name: 'ams-ix-v4',
          location: 'pdb:ix:26',
          localIp: '80.249.211.140',
          peerIp: '80.249.208.247',
          localBgpRole: 4,
          peerBgpRole: 4,
          secretEnv: 'BGP_MD5_AS15169_AMS_IX',
        },
        {
          name: 'ams-ix-v6',
          location: 'pdb:ix:26',
          localIp: '2001:7f8:1::a501:3335:1',
          peerIp: '2001:7f8:1::a501:5169:1',
          localBgpRole: 4,
          peerBgpRole: 4,
          secretEnv: 'BGP_MD5_AS15169_AMS_IX',
        },
      ],
    });
  }
}

/** Builds the app; `PEERING_API_URL_AS15169` points it at another Peering API (a test server, say). */
export function buildApp(env: NodeJS.ProcessEnv = process.env): { app: App; stack: PeeringStack } {
  const app = new App();
  const stack = new PeeringStack(app, 'peering', {
    googleApiUrl: env.PEERING_API_URL_AS15169 ?? 'https://peering.as15169.example/v0.1',
  });
  return { app, stack };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { app } = buildApp();
  if (process.argv.includes('--yaml'))
    process.stdout.write(peeringManifestsYaml(app, { namespace: 'peering' }));
  else app.synth();
}
