import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { IssuerAccount } from './accounts.js';

export interface InteractionContext {
  /** The path after `/oauth2/interaction/`: `UID` (the form) or `UID/login` (its submission). */
  path: string;
  accountByUsername(username: string): IssuerAccount | undefined;
  accountById(id: string | undefined): IssuerAccount | undefined;
  resourceScope: string;
}

const MAX_FORM_BYTES = 8 * 1024;

/**
 * The login page of the issuer: a username and password form, then consent is implied (PeeringDB asks once
 * per client; a test issuer has nobody to ask). A person who is already logged in is only asked to consent,
 * which is granted at once.
 */
export async function handleInteraction(
  provider: Provider,
  req: IncomingMessage,
  res: ServerResponse,
  context: InteractionContext,
): Promise<void> {
  const [uid, action] = context.path.split('/');
  const details = await provider.interactionDetails(req, res).catch(() => undefined);
  if (!details || details.uid !== uid) {
    return page(res, 400, '<p>This login attempt has expired. Start again from your application.</p>');
  }
  if (req.method === 'GET' && action === undefined) {
    const loggedIn = context.accountById(details.session?.accountId);
    if (details.prompt.name === 'consent' && loggedIn)
      return finish(provider, req, res, details, loggedIn, context);
    return page(res, 200, loginForm(details.uid));
  }
  if (req.method === 'POST' && action === 'login') {
    const form = new URLSearchParams(await readBody(req));
    const account = context.accountByUsername(form.get('username') ?? '');
    if (!account || !samePassword(account.password, form.get('password') ?? '')) {
      return page(res, 401, `<p class="error">Wrong username or password.</p>${loginForm(details.uid)}`);
    }
    return finish(provider, req, res, details, account, context);
  }
  return page(res, 405, '<p>Method not allowed.</p>');
}

async function finish(
  provider: Provider,
  req: IncomingMessage,
  res: ServerResponse,
  details: Awaited<ReturnType<Provider['interactionDetails']>>,
  account: IssuerAccount,
  context: InteractionContext,
): Promise<void> {
  const accountId = String(account.id);
  const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope ?? 'openid'));
  const resources = details.params.resource;
  for (const resource of Array.isArray(resources) ? resources : resources ? [resources] : []) {
    grant.addResourceScope(String(resource), context.resourceScope);
  }
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId, amr: ['pwd'] }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

function samePassword(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new Error('login form too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function loginForm(uid: string): string {
  const action = `/oauth2/interaction/${encodeURIComponent(uid)}/login`;
  return `<form method="post" action="${action}">
  <label>Username <input name="username" autocomplete="username" autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button type="submit">Log in</button>
</form>`;
}

function page(res: ServerResponse, status: number, body: string): void {
  const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>PeeringDB-like issuer: log in</title></head><body><h1>Log in</h1>${body}</body></html>`;
  res
    .writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // No form-action: browsers apply it to the redirect back to the client's loopback listener too.
      'content-security-policy': "default-src 'none'",
    })
    .end(html);
}
