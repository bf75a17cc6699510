/**
 * The web client's side of the Bluesky login (server: http/routes/web-login.ts; docs/identity.md):
 * start it, read its outcome from the address, get a single-use IRC login token for each
 * connection, log out. The session itself is an HttpOnly cookie this code never sees; nothing
 * here is stored.
 */

/** what POST /auth/token answers: a token for one SASL login (method web-token) */
export interface WebLogin { token: string; did: string; handle?: string; nick: string }

const post = (path: string, body?: unknown): Promise<Response> => fetch(path, {
  method: 'POST',
  credentials: 'same-origin',
  ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
});

/** a login token when this browser is logged in with Bluesky; undefined when it is not */
export async function loginToken(): Promise<WebLogin | undefined> {
  const res = await post('/auth/token');
  if (res.status === 401) return undefined;
  if (!res.ok) throw new Error(`the server answered ${res.status}`);
  return await res.json() as WebLogin;
}

/** go to the user's Bluesky server to log in; resolves with a message when that cannot start */
export async function startBlueskyLogin(handle: string): Promise<string> {
  let res: Response;
  try {
    res = await post('/auth/login', { handle });
  } catch {
    return 'The server could not be reached.';
  }
  const body = await res.json().catch(() => ({})) as { url?: string; error?: string; message?: string };
  if (res.ok && body.url) {
    location.assign(body.url);
    return '';
  }
  if (body.error === 'WRONG_ADDRESS' && body.url) {
    location.assign(body.url);
    return body.message ?? '';
  }
  return body.message ?? `The login could not start (${res.status}).`;
}

export async function logout(): Promise<void> {
  await post('/auth/logout').catch(() => undefined);
}

/** what the server's #login-error=<code> means (the server's codes, http/routes/web-login.ts) */
const LOGIN_ERRORS: Record<string, string> = {
  HANDLE_NOT_FOUND: 'That handle was not found.',
  PDS_UNREACHABLE: 'Your Bluesky server could not be reached. Try again in a moment.',
  ADDRESS_REFUSED: 'This server does not contact that address.',
  DENIED: 'The login was cancelled or refused at your Bluesky server.',
  EXPIRED: 'That login expired or was already used. Please log in again.',
  BUSY: 'Too many logins in progress. Try again in a moment.',
  WRONG_BROWSER: 'That login was started in another browser or tab. Please log in again.',
};

/** the message for a failed login the server sent the browser back with (the address is cleaned) */
export function loginErrorFromAddress(): string | undefined {
  const m = /^#login-error=([A-Z_]{1,32})$/.exec(location.hash);
  if (!m) return undefined;
  history.replaceState(null, '', location.pathname + location.search);
  return LOGIN_ERRORS[m[1]!] ?? 'The login did not work. Please try again.';
}
