import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { DEFAULT_LOGIN_SCOPE, loginWithAuthorizationCode } from '../../auth/login.js';
import { RefreshTokenSource } from '../../auth/oauth-token-sources.js';
import { defaultLoginFile } from '../../auth/token-file.js';
import type { DpopKey } from '../../auth/dpop-key.js';
import { dpopKeyOf, globalsOf, parse } from './context.js';
import { UsageError } from './exit-codes.js';
import { print } from './output.js';

/** Where the login is: `--token-file`, else the auth module's default (`PEERINGCTL_LOGIN_FILE`, the config folder). */
export function tokenFilePath(explicit: string | undefined): string {
  return explicit || defaultLoginFile();
}

/**
 * The token source of a stored login, when there is one: the explicit `--token-file` always (a missing file is
 * then an error), the default file only if it exists.
 */
export function loginTokenSource(
  explicit: string | undefined,
  dpop?: DpopKey,
): RefreshTokenSource | undefined {
  const path = tokenFilePath(explicit);
  if (!explicit && !process.env.PEERINGCTL_LOGIN_FILE && !existsSync(path)) return undefined;
  return new RefreshTokenSource({ tokenFile: path, clientSecret: clientSecretFromEnv(), dpop });
}

function clientSecretFromEnv(variable = 'PEERINGCTL_CLIENT_SECRET'): string | undefined {
  return process.env[variable] || undefined;
}

interface LoginFlags {
  issuer?: string;
  clientId?: string;
  clientSecretEnv?: string;
  scope?: string;
  resource?: string;
  port?: number;
  loginTimeout: number;
}

/** `peeringctl login` and `peeringctl token`: a person logs in once; machines then use the stored refresh token. */
export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('Log in at an OAuth 2.0 / OpenID Connect issuer (PeeringDB by default) and store the login')
    .option('--issuer <url>', 'the issuer (env PEERINGCTL_ISSUER; default https://auth.peeringdb.com/oauth2)')
    .option('--client-id <id>', 'your OAuth client registered there (env PEERINGCTL_CLIENT_ID)')
    .option(
      '--client-secret-env <var>',
      'environment variable with the client secret, for a confidential client',
    )
    .option('--scope <scopes>', `scopes to ask for (default "${DEFAULT_LOGIN_SCOPE}")`)
    .option('--resource <url>', 'RFC 8707 resource: a Peering API URL, for JWT access tokens meant for it')
    .option(
      '--port <port>',
      'port of the loopback redirect listener (default: any free port)',
      (v: string) => {
        if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new UsageError('--port: expected 0-65535');
        return Number(v);
      },
    )
    .addOption(
      new Option('--login-timeout <duration>', 'give up waiting for the browser after this long')
        .argParser(parse.duration)
        .default(5 * 60_000, '5m'),
    )
    .addHelpText(
      'after',
      `
Prints a URL to open in a browser; after you log in there (with MFA), the issuer redirects to a listener on
127.0.0.1 and the login (a refresh token, never a password or client secret) is stored, mode 0600, in
--token-file (env PEERINGCTL_LOGIN_FILE; default ~/.config/peeringctl/login.json). Every command then uses it
when no --token is given, refreshing the access token as needed.

Examples:
  peeringctl login --client-id my-peeringdb-oauth-app
  peeringctl login --issuer https://id.example.net --client-id peeringctl --resource https://peering.example.net/v0.1
  peeringctl list --local-asn 64501     # uses the stored login`,
    )
    .action(async (flags: LoginFlags, cmd: Command) => {
      const globals = globalsOf(cmd);
      const clientId = flags.clientId ?? process.env.PEERINGCTL_CLIENT_ID;
      if (!clientId) throw new UsageError('give --client-id (or set PEERINGCTL_CLIENT_ID)');
      let clientSecret: string | undefined;
      if (flags.clientSecretEnv !== undefined) {
        clientSecret = process.env[flags.clientSecretEnv];
        if (!clientSecret) throw new UsageError(`--client-secret-env: ${flags.clientSecretEnv} is not set`);
      }
      const tokenFile = tokenFilePath(globals.tokenFile);
      const result = await loginWithAuthorizationCode({
        issuer: flags.issuer ?? process.env.PEERINGCTL_ISSUER ?? 'https://auth.peeringdb.com/oauth2',
        clientId,
        clientSecret,
        scope: flags.scope,
        resource: flags.resource,
        tokenFile,
        dpop: await dpopKeyOf(globals),
        port: flags.port,
        timeoutMs: flags.loginTimeout,
        openBrowser: (url) => {
          process.stderr.write(`Open this URL in your browser to log in:\n  ${url}\n`);
        },
      });
      const data = {
        token_file: result.tokenFile,
        subject: result.subject,
        scope: result.scope,
        expires_at: result.expiresAt?.toISOString(),
      };
      print(globals.output, data, () => ({
        columns: ['LOGGED IN AS', 'TOKEN FILE', 'ACCESS TOKEN EXPIRES'],
        rows: [[result.subject ?? '(no id token)', result.tokenFile, data.expires_at ?? 'unknown']],
      }));
    });

  program
    .command('token')
    .description('Print a valid access token from the stored login, refreshing it if needed')
    .addHelpText(
      'after',
      `
For other tools: the token alone on stdout (json: {"access_token": ...}). Exit 5 when there is no usable login.

Examples:
  curl -H "Authorization: Bearer $(peeringctl token)" https://peering.example.net/v0.1/sessions?asn=64501
  peeringctl token --token-file /etc/peering/login.json -o json`,
    )
    .action(async (_flags: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      const path = tokenFilePath(globals.tokenFile);
      const source = new RefreshTokenSource({
        tokenFile: path,
        clientSecret: clientSecretFromEnv(),
        dpop: await dpopKeyOf(globals),
      });
      const token = await source.token();
      if (globals.output === 'table') process.stdout.write(`${token}\n`);
      else
        print(globals.output, { access_token: token, token_file: path }, () => ({ columns: [], rows: [] }));
    });
}
