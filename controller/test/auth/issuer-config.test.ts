import { issuerAuthenticators } from '../../src/auth/authenticators.js';
import {
  ChainAuthenticator,
  networkPermissions,
  StaticTokenAuthenticator,
  TokenNotRecognised,
  type Authenticator,
} from '../../src/auth/identity.js';
import { JwtAccessTokenVerifier } from '../../src/auth/jwt-verifier.js';
import { PeeringDbProfileVerifier } from '../../src/auth/peeringdb-verifier.js';
import { parseConfig, type ConfigInput } from '../../src/config/config.js';
import { PeeringError } from '../../src/domain/errors.js';

const base = { asns: [64500], apiUrl: 'https://peering.example.net/v0.1', peeringdb: { dataDir: '.' } };
const configWith = (issuers: unknown[]) =>
  parseConfig({ ...base, auth: { issuers } } as ConfigInput, 'config.yaml');
const problem = (issuers: unknown[]) => {
  try {
    configWith(issuers);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('auth.issuers in the configuration', () => {
  test('defaults: JWKS cache 10 min, refresh cooldown 30 s, 30 s skew; PeeringDB cache 5 min within 10 h', () => {
    const config = configWith([
      { kind: 'jwt', issuer: 'https://idp.example.net' },
      { kind: 'peeringdb', url: 'https://auth.peeringdb.com' },
    ]);
    expect(config.auth.issuers).toEqual([
      {
        kind: 'jwt',
        issuer: 'https://idp.example.net',
        networksClaim: 'networks',
        algorithms: ['RS256', 'ES256', 'EdDSA'],
        clockToleranceSeconds: 30,
        jwksMaxAge: 600_000,
        jwksRefreshCooldown: 30_000,
        timeout: 5000,
      },
      {
        kind: 'peeringdb',
        url: 'https://auth.peeringdb.com',
        cacheTtl: 300_000,
        tokenLifetime: 36_000_000,
        timeout: 5000,
      },
    ]);
    const [jwt, peeringdb] = issuerAuthenticators(config);
    expect(jwt).toBeInstanceOf(JwtAccessTokenVerifier);
    expect(peeringdb).toBeInstanceOf(PeeringDbProfileVerifier);
  });

  test('mistakes are refused with the field named', () => {
    expect(problem([{ kind: 'jwt', issuer: 'http://idp.example.net' }])).toMatch(
      /auth\.issuers\.0\.issuer: must use https/,
    );
    expect(problem([{ kind: 'peeringdb', url: 'http://auth.peeringdb.com' }])).toMatch(
      /auth\.issuers\.0\.url: must use https/,
    );
    expect(problem([{ kind: 'jwt', issuer: 'https://idp.example.net', algorithms: ['HS256'] }])).toMatch(
      /auth\.issuers\.0\.algorithms\.0/,
    );
    expect(problem([{ kind: 'jwt', issuer: 'https://idp.example.net', algorithms: ['none'] }])).toMatch(
      /auth\.issuers\.0\.algorithms\.0/,
    );
    expect(problem([{ kind: 'jwt', issuer: 'https://idp.example.net', audiance: 'x' }])).toMatch(/audiance/);
    expect(
      problem([{ kind: 'peeringdb', url: 'https://auth.peeringdb.com', cacheTtl: '5 minutes' }]),
    ).toMatch(/auth\.issuers\.0\.cacheTtl/);
    expect(problem([{ kind: 'oauth', issuer: 'https://idp.example.net' }])).toMatch(/auth\.issuers\.0\.kind/);
    // Loopback issuers may use plain http: a local issuer for tests and demos.
    expect(problem([{ kind: 'jwt', issuer: 'http://127.0.0.1:9000/oauth2' }])).toBe('');
  });

  test('the verifier itself refuses HMAC and none, whatever its caller passes', () => {
    expect(
      () =>
        new JwtAccessTokenVerifier({
          issuer: 'https://idp.example.net',
          audience: 'https://peering.example.net/v0.1',
          algorithms: ['HS256' as 'RS256'],
        }),
    ).toThrow(/asymmetric/);
  });
});

describe('permissions and the authenticator chain', () => {
  test.each([
    [15, undefined, 15],
    [1, undefined, 1],
    [15, 1, 1],
    [1, 15, 15],
    [0, undefined, 0],
    [6, undefined, 6],
  ])('perms %p with manage_peering_sessions %p grants %p', (perms, manage, bits) => {
    expect(networkPermissions(perms, manage)).toBe(bits);
  });

  test('the chain reports the verdict of the authenticator that recognised the token', async () => {
    const expired: Authenticator = {
      authenticate: async () => {
        throw new PeeringError('UNAUTHENTICATED', 'the access token has expired', 'authorization');
      },
    };
    const foreign: Authenticator = {
      authenticate: async () => {
        throw new TokenNotRecognised();
      },
    };
    const statics = new StaticTokenAuthenticator([]);
    await expect(
      new ChainAuthenticator([statics, expired, foreign]).authenticate('Bearer abc'),
    ).rejects.toThrow('the access token has expired');
    await expect(new ChainAuthenticator([statics, foreign]).authenticate('Bearer abc')).rejects.toThrow(
      'the bearer token is not valid',
    );
  });

  test('a verdict an authenticator already holds answers first; without one the chain verifies in order', async () => {
    const asked: string[] = [];
    const identity = { subject: 'cached', issuer: 'test', networks: new Map([[64501, 15]]) };
    let holds = true;
    const slow: Authenticator = {
      authenticate: async () => {
        asked.push('slow');
        throw TokenNotRecognised.shared;
      },
    };
    const caching: Authenticator = {
      authenticate: async () => {
        asked.push('caching');
        return identity;
      },
      known: (token) => (holds && token.value === 'abc' ? identity : undefined),
    };
    const chain = new ChainAuthenticator([slow, caching]);
    await expect(chain.authenticate('Bearer abc')).resolves.toBe(identity);
    expect(asked).toEqual([]);
    holds = false;
    await expect(chain.authenticate('Bearer abc')).resolves.toBe(identity);
    expect(asked).toEqual(['slow', 'caching']);
  });
});
