import 'cdktf/lib/testing/adapters/jest';
import './support/cdktf-matchers.js';
import { Testing, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { PeeringError } from '../../controller/src/domain/errors.js';
import { PeeringSession } from '../src/peering-session.js';
import { TerraformData } from '../src/terraform-data.js';
import { defaultPeeringctlScript, resolvePeeringctl } from '../src/peeringctl-command.js';
import type { PeeringSessionProps } from '../src/session-props.js';
import { AMS_IX, CLOUDFLARE, GOOGLE, cloudflareToGoogleV4 } from './support/ams-ix.js';

Testing.setupJest();

const API = 'https://peering.google.example/v0.1';

interface SynthResource {
  count?: number;
  triggers_replace: Record<string, unknown>;
  input: Record<string, unknown>;
  provisioner: {
    'local-exec': {
      when: string;
      command: string;
      interpreter: string[];
      environment: Record<string, string>;
    };
  }[];
}

function synth(build: (stack: TerraformStack) => void): {
  json: string;
  resources: Record<string, SynthResource>;
} {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'test');
  build(stack);
  const json = Testing.synth(stack);
  const parsed = JSON.parse(json) as { resource?: { terraform_data?: Record<string, SynthResource> } };
  return { json, resources: parsed.resource?.terraform_data ?? {} };
}

function synthError(props: unknown, id = 'v4'): PeeringError {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'test');
  try {
    new PeeringSession(stack, id, props as PeeringSessionProps);
  } catch (error) {
    expect(error).toBeInstanceOf(PeeringError);
    return error as PeeringError;
  }
  throw new Error('expected the construct to refuse its props');
}

describe('PeeringSession on terraform_data', () => {
  it('keeps the identity in triggers_replace, ASNs as numbers, and how to reach the peer in input', () => {
    const { json } = synth((stack) => new PeeringSession(stack, 'google-v4', cloudflareToGoogleV4(API)));
    expect(json).toHaveResourceWithProperties(TerraformData, {
      triggers_replace: {
        local_asn: 13335,
        peer_asn: 15169,
        location: AMS_IX,
        local_ip: CLOUDFLARE.v4,
        peer_ip: GOOGLE.v4[0],
      },
      input: { api_url: API },
    });
    expect(json).not.toMatch(/"local_asn": "13335"/);
  });

  it('names the resource from the natural key and the session name, wherever the construct sits', () => {
    const flat = synth((stack) => new PeeringSession(stack, 'Google.v4', cloudflareToGoogleV4(API)));
    const nested = synth(
      (stack) =>
        new PeeringSession(
          new Construct(new Construct(stack, 'a'), 'b'),
          'Google.v4',
          cloudflareToGoogleV4(API),
        ),
    );
    expect(Object.keys(flat.resources)).toEqual(['peering_as13335_as15169_ix26_google_v4']);
    expect(Object.keys(nested.resources)).toEqual(['peering_as13335_as15169_ix26_google_v4']);
  });

  it('keeps addresses out of the name, so a changed peer address is a replacement of the same resource', () => {
    const first = synth((stack) => new PeeringSession(stack, 'v4', cloudflareToGoogleV4(API)));
    const moved = synth(
      (stack) => new PeeringSession(stack, 'v4', { ...cloudflareToGoogleV4(API), peerIp: GOOGLE.v4[1] }),
    );
    expect(Object.keys(moved.resources)).toEqual(Object.keys(first.resources));
    expect(Object.values(moved.resources)[0]?.triggers_replace.peer_ip).toBe(GOOGLE.v4[1]);
  });

  it('runs peeringctl request at create and delete at destroy, with values only from self via the environment', () => {
    const { resources } = synth(
      (stack) =>
        new PeeringSession(stack, 'v4', {
          ...cloudflareToGoogleV4(API),
          tokenEnv: 'TOKEN_AS15169',
          secretEnv: 'BGP_SECRET_AMS',
        }),
    );
    const [create, destroy] = Object.values(resources)[0]?.provisioner.map((p) => p['local-exec']) ?? [];
    expect(create?.when).toBe('create');
    expect(create?.command).toBe('request');
    expect(destroy?.when).toBe('destroy');
    expect(destroy?.command).toBe('delete');
    for (const step of [create, destroy]) {
      for (const value of Object.values(step?.environment ?? {})) {
        expect(value).toMatch(/^\$\{self\.(triggers_replace|input)\.[a-z_]+\}$/);
      }
      // The script is a constant: no session value is ever part of it.
      const script = step?.interpreter[2] ?? '';
      for (const literal of [
        '13335',
        '15169',
        CLOUDFLARE.v4,
        GOOGLE.v4[0],
        API,
        'TOKEN_AS15169',
        'BGP_SECRET_AMS',
        '${',
      ]) {
        expect(script).not.toContain(literal);
      }
    }
    expect(create?.environment).toMatchObject({
      PEERING_API_URL: '${self.input.api_url}',
      PEERING_TOKEN_ENV: '${self.input.token_env}',
      PEERING_PEER_IP: '${self.triggers_replace.peer_ip}',
      PEERING_SECRET_ENV: '${self.triggers_replace.secret_env}',
    });
    expect(create?.interpreter[2]).toContain('--secret-env "$PEERING_SECRET_ENV"');
    expect(destroy?.interpreter[2]).not.toContain('--secret-env');
    expect(destroy?.interpreter[2]).toContain('--peer-ip "$PEERING_PEER_IP"');
  });

  it('produces the same script for two different sessions', () => {
    const { resources } = synth((stack) => {
      new PeeringSession(stack, 'v4', cloudflareToGoogleV4(API));
      new PeeringSession(stack, 'v4b', { ...cloudflareToGoogleV4(API), peerIp: GOOGLE.v4[1] });
    });
    const scripts = Object.values(resources).map((r) => r.provisioner[0]?.['local-exec'].interpreter[2]);
    expect(scripts).toHaveLength(2);
    expect(scripts[0]).toBe(scripts[1]);
  });

  it('never writes a secret or token value, only the names of the variables holding them', () => {
    process.env.BGP_SECRET_AMS = 'md5-secret-value-7f3a';
    process.env.TOKEN_AS15169 = 'bearer-token-value-91c2';
    try {
      const { json } = synth(
        (stack) =>
          new PeeringSession(stack, 'v4', {
            ...cloudflareToGoogleV4(API),
            secretEnv: 'BGP_SECRET_AMS',
            tokenEnv: 'TOKEN_AS15169',
          }),
      );
      expect(json).toContain('BGP_SECRET_AMS');
      expect(json).not.toContain('md5-secret-value-7f3a');
      expect(json).not.toContain('bearer-token-value-91c2');
    } finally {
      delete process.env.BGP_SECRET_AMS;
      delete process.env.TOKEN_AS15169;
    }
  });

  it('stores canonical addresses, so equal addresses written differently plan no change', () => {
    const { resources } = synth(
      (stack) =>
        new PeeringSession(stack, 'v6', {
          ...cloudflareToGoogleV4(API),
          localIp: '2001:07F8:0001:0000:0000:A501:3335:0001/64',
          peerIp: '2001:7F8:1::A501:5169:1',
        }),
    );
    expect(Object.values(resources)[0]?.triggers_replace).toMatchObject({
      local_ip: CLOUDFLARE.v6,
      peer_ip: GOOGLE.v6[0],
    });
  });

  it('keeps a decommissioned session in the configuration with count 0 and its de-peer command', () => {
    const { resources } = synth(
      (stack) => new PeeringSession(stack, 'v4', { ...cloudflareToGoogleV4(API), decommissioned: true }),
    );
    const resource = Object.values(resources)[0];
    expect(resource?.count).toBe(0);
    expect(resource?.provisioner.map((p) => p['local-exec'].when)).toEqual(['create', 'destroy']);
  });

  it('is valid Terraform', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'valid');
    new PeeringSession(stack, 'v4', {
      ...cloudflareToGoogleV4(API),
      localBgpRole: 4,
      peerBgpRole: 4,
      secretEnv: 'S',
    });
    new PeeringSession(stack, 'old', {
      ...cloudflareToGoogleV4(API),
      peerIp: GOOGLE.v4[1],
      decommissioned: true,
    });
    expect(Testing.fullSynth(stack)).toBeValidTerraform();
  });

  it('keeps ASNs as numbers in `synth --hcl` output', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'hcl');
    new PeeringSession(stack, 'v4', { ...cloudflareToGoogleV4(API), localBgpRole: 4, peerBgpRole: 4 });
    const hcl = Testing.synthHcl(stack) as string;
    expect(hcl).toMatch(/local_asn\s*=\s*13335\b/);
    expect(hcl).toMatch(/peer_bgp_role\s*=\s*4\b/);
    expect(hcl).toContain('provisioner "local-exec"');
  });
});

describe('PeeringSession props are refused at synth time, naming the construct and the field', () => {
  const valid = cloudflareToGoogleV4(API);

  it.each([
    [
      'peerIp',
      { ...valid, peerIp: '80.249.208.2477' },
      /peerIp: "80\.249\.208\.2477" is not an IPv4 or IPv6 address/,
    ],
    ['localIp', { ...valid, localIp: 'fe80::1%eth0' }, /localIp: .*zone id/],
    ['localAsn', { ...valid, localAsn: 0 }, /localAsn: /],
    ['peerAsn', { ...valid, peerAsn: 4294967296 }, /peerAsn: /],
    ['peerAsn', { ...valid, peerAsn: '15169' }, /peerAsn: .*expected number/],
    ['location', { ...valid, location: 'ams-ix' }, /location: must be pdb:ix:<PeeringDB ix id> or pdb:fac:/],
    [
      'location.type',
      { ...valid, location: { id: AMS_IX, type: 'private' } },
      /location\.type: a ix location is public, not private/,
    ],
    ['apiUrl', { ...valid, apiUrl: 'ftp://peering.google.example' }, /apiUrl: must be an http\(s\) URL/],
    [
      'secretEnv',
      { ...valid, secretEnv: 'hunter2 is my secret' },
      /secretEnv: must be the NAME of an environment variable/,
    ],
    ['tokenEnv', { ...valid, tokenEnv: 'eyJhbGciOi.x.y' }, /tokenEnv: must be the NAME/],
    ['peerBgpRole', { ...valid, localBgpRole: 4 }, /peerBgpRole: give both localBgpRole and peerBgpRole/],
    [
      'peerBgpRole',
      { ...valid, localBgpRole: 0, peerBgpRole: 4 },
      /peerBgpRole: localBgpRole and peerBgpRole must be RFC 9234 role-correct/,
    ],
    [
      'peerBgpRole',
      { ...valid, localBgpRole: 0, peerBgpRole: 7 },
      /peerBgpRole: must be one of 0, 1, 2, 3, 4/,
    ],
    [
      'peerIp',
      { ...valid, peerIp: GOOGLE.v6[0] },
      /peerIp: localIp and peerIp must be of the same address family/,
    ],
    ['peerAsn', { ...valid, peerAsn: CLOUDFLARE.asn }, /peerAsn: localAsn and peerAsn must differ/],
    ['decommissioned', { ...valid, decommissioned: 'yes' }, /decommissioned: /],
    ['backing', { ...valid, backing: 'aws_instance' }, /backing: /],
    ['peeringctl', { ...valid, peeringctl: [] }, /peeringctl: /],
    ['peerIP', { ...valid, peerIP: '1.2.3.4' }, /peerIP: is not a prop/],
  ])('%s', (field, props, message) => {
    const error = synthError(props);
    expect(error.message).toContain('PeeringSession "test/v4" has invalid props');
    expect(error.message).toMatch(message);
    expect(error.details.map((d) => d.name)).toContain(field);
    expect(error.code).toBe('INVALID_FIELD');
  });

  it('refuses a session name that cannot be part of a resource name', () => {
    const error = synthError(valid, 'Google v4');
    expect(error.message).toMatch(
      /PeeringSession "test\/Google v4" has invalid props:\n {2}id: must be 1-128 characters/,
    );
  });

  it('reports a missing field as required, with every other bad field at once', () => {
    const { localIp: _dropped, ...rest } = valid;
    const error = synthError({ ...rest, peerIp: 'nope', apiUrl: 'x' });
    expect(error.code).toBe('MISSING_FIELD');
    expect(error.field).toBe('localIp');
    expect(error.message).toMatch(/localIp: is required/);
    expect(error.message).toMatch(/peerIp: "nope" is not an IPv4 or IPv6 address/);
    expect(error.message).toMatch(/apiUrl: must be an http\(s\) URL/);
  });

  it('refuses two constructs for the same session, which would de-peer each other', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'test');
    new PeeringSession(stack, 'v4', valid);
    expect(() => new PeeringSession(stack, 'again', { ...valid, decommissioned: true })).toThrow(
      /PeeringSession "test\/again" declares the same session as "test\/v4"/,
    );
  });

  it('refuses two sessions whose names map to one Terraform resource', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'test');
    new PeeringSession(stack, 'Google-v4', valid);
    expect(() => new PeeringSession(stack, 'google_v4', { ...valid, peerIp: GOOGLE.v4[1] })).toThrow(
      /both map to the Terraform resource peering_as13335_as15169_ix26_google_v4/,
    );
  });
});

describe('how peeringctl is run', () => {
  it('defaults to node with this checkout’s compiled peeringctl, by absolute path', () => {
    expect(resolvePeeringctl(undefined, {})).toEqual(['node', defaultPeeringctlScript()]);
    expect(defaultPeeringctlScript()).toMatch(/^\/.*\/dist\/controller\/src\/cli\/peeringctl\.js$/);
  });

  it('takes the prop first, then $PEERINGCTL as a JSON array or a command line', () => {
    expect(resolvePeeringctl(['/opt/bin/peeringctl'], { PEERINGCTL: 'ignored' })).toEqual([
      '/opt/bin/peeringctl',
    ]);
    expect(resolvePeeringctl(undefined, { PEERINGCTL: '["/opt/my tools/peeringctl", "--verbose"]' })).toEqual(
      ['/opt/my tools/peeringctl', '--verbose'],
    );
    expect(resolvePeeringctl(undefined, { PEERINGCTL: 'node /srv/peeringctl.js' })).toEqual([
      'node',
      '/srv/peeringctl.js',
    ]);
    expect(() => resolvePeeringctl(undefined, { PEERINGCTL: '[1]' })).toThrow(
      /JSON array of non-empty strings/,
    );
  });

  it('passes the command as positional arguments after the script, never through the shell parser', () => {
    const { resources } = synth(
      (stack) =>
        new PeeringSession(stack, 'v4', {
          ...cloudflareToGoogleV4(API),
          peeringctl: ['/opt/my tools/peeringctl', '-v'],
        }),
    );
    const create = Object.values(resources)[0]?.provisioner[0]?.['local-exec'];
    expect(create?.interpreter).toEqual([
      '/bin/sh',
      '-c',
      expect.stringContaining('exec "$@"'),
      'peeringctl',
      '/opt/my tools/peeringctl',
      '-v',
    ]);
  });
});
