import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import IRC from 'irc-framework';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { joinChannel, launchBrowser, logOf, shot } from '../harness/browser.js';
import { freeTcpPort } from '../harness/federation.js';
import { bootServer, type TestServer } from '../harness/server.js';
import { startAtprotoStack, type AtprotoStack, type StackAccount } from '../harness/atproto.js';

// Bluesky login in the web client, end to end in a real browser (#15): Debian's Chromium
// (headless, playwright-core) against a real server and a real local PLC + PDS. The user types
// a handle, signs in and consents on the PDS's own pages, comes back logged in; chats with a
// stock IRC client (irc-framework) that sees the DID; reloads and is still logged in, with the
// history and the read markers the server keeps; survives a server restart; logs out. And a
// handle that does not exist.

let browser: Browser;
let stack: AtprotoStack;
let srv: TestServer;
let base: string;

before(async () => {
  stack = await startAtprotoStack({ accounts: ['alice'] });
  const port = await freeTcpPort();
  srv = await bootServer({ 'plc-url': stack.plcUrl, 'ssrf-allow-loopback': 'true', 'handle-resolver-url': stack.pdsUrl, 'web-addr': `127.0.0.1:${port}` });
  base = `http://127.0.0.1:${port}`;
  browser = await launchBrowser({ webClient: true });
});
after(async () => {
  await browser?.close();
  await srv?.stop();
  await stack?.stop();
});

const log = logOf;

/** the user's part: the handle on freeq's page, then the PDS's sign-in and consent pages */
async function blueskyLogin(page: Page, account: StackAccount, artifacts = false): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('Bluesky handle').fill(account.handle);
  if (artifacts) await shot(page, 'login');
  await page.getByRole('button', { name: 'Log in with Bluesky' }).click();
  await page.waitForURL((u) => u.origin === stack.pdsUrl);
  await page.locator('input[type=password]').fill(account.password);
  if (artifacts) await shot(page, 'pds-sign-in');
  await page.locator('button[type=submit]').click();
  await page.getByRole('button', { name: /authorize|accept|allow/i }).click();
  await page.waitForURL((u) => u.origin === base);
  await page.getByLabel('Join a channel').waitFor();
}

const join = joinChannel;

test('log in with a Bluesky handle at the real PDS, chat with irc-framework, reload, read markers, log out', async () => {
  const alice = stack.account('alice');
  const context: BrowserContext = await browser.newContext();
  const page = await context.newPage();
  await blueskyLogin(page, alice, true);
  // logged in: the nick from the handle, the account shown; nothing of the login in the address or storage
  const me = page.getByRole('navigation').locator('.me');
  await me.getByText('alice', { exact: true }).waitFor();
  await me.getByText('alice.test').waitFor();
  assert.equal(new URL(page.url()).hash, '');
  const stored = await page.evaluate(() => JSON.stringify(Object.entries((globalThis as unknown as { localStorage: Record<string, string> }).localStorage)));
  assert.ok(!/token|freeq_session/i.test(stored), `no secret in localStorage: ${stored}`);
  const cookies = await context.cookies(`${base}/auth/token`);
  const session = cookies.find((c) => c.name === 'freeq_session');
  assert.ok(session && session.httpOnly && session.sameSite === 'Strict' && session.path === '/auth', JSON.stringify(cookies));

  await join(page, '#bsky');
  await join(page, '#other');
  const fw = new IRC.Client({ auto_reconnect: false });
  const heard: string[] = [];
  fw.on('privmsg', (e: { nick: string; message: string }) => { if (e.nick === 'alice') heard.push(e.message); });
  try {
    const registered = new Promise<void>((r) => fw.once('registered', () => r()));
    fw.connect({ host: '127.0.0.1', port: srv.port, nick: 'ircbob', username: 'ircbob', gecos: 'irc-framework' });
    await registered;
    const joined = new Promise<void>((r) => fw.on('join', (e: { nick: string; channel: string }) => { if (e.nick === 'ircbob' && e.channel === '#other') r(); }));
    fw.join('#bsky');
    fw.join('#other');
    await joined;
    // the IRC user sees who alice is: WHOIS 330 with her DID
    const account = new Promise<string>((r) => fw.whois('alice', (w: { account?: string }) => r(w.account ?? '')));
    assert.equal(await account, alice.did);
    // seen in #other (the channel shown): read up to there, on the server too (draft/read-marker)
    fw.say('#other', 'welcome to other');
    await log(page).getByText('welcome to other').waitFor();
    // both ways, in #bsky
    await page.getByRole('navigation').getByRole('button', { name: '#bsky' }).click();
    fw.say('#bsky', 'hi alice from irssi-land');
    await log(page).getByText('hi alice from irssi-land').waitFor();
    await page.getByLabel('Message #bsky').fill('hello from Bluesky');
    await page.getByLabel('Message #bsky').press('Enter');
    const ownLine = log(page).locator('.line').filter({ hasText: 'hello from Bluesky' });
    await ownLine.getByRole('img', { name: `signed for ${alice.did}` }).waitFor();
    for (let i = 0; i < 50 && !heard.includes('hello from Bluesky'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(heard.includes('hello from Bluesky'), `irc-framework heard ${JSON.stringify(heard)}`);
    await shot(page, 'logged-in');
    // two messages in #other while alice reads #bsky: unread there, and the server's read marker is older
    fw.say('#other', 'unread one');
    fw.say('#other', 'unread two');
    await page.getByRole('navigation').getByLabel('2 unread').waitFor();
  } finally {
    fw.quit('bye');
  }

  // a reload: still logged in (a fresh single-use token from the session cookie), the channels
  // back, the history back, and #other's unread count from the server's read marker
  await page.reload();
  await me.getByText('alice.test').waitFor();
  await page.getByRole('navigation').getByRole('button', { name: /#bsky/ }).click();
  await log(page).getByText('hello from Bluesky').waitFor();
  await page.getByRole('navigation').getByLabel('2 unread').waitFor();
  // reading #other marks it read on the server: after another reload it is not unread any more
  await page.getByRole('navigation').getByRole('button', { name: /#other/ }).click();
  await log(page).getByText('unread two').waitFor();
  await page.reload();
  await me.getByText('alice.test').waitFor();
  await page.getByRole('navigation').getByRole('button', { name: /#other/ }).waitFor();
  await page.getByRole('navigation').getByRole('button', { name: /#bsky/ }).waitFor();
  assert.equal(await page.getByRole('navigation').getByLabel(/unread/).count(), 0, 'the read markers came from the server');

  // a server restart: the page reconnects by itself with a fresh login token (the session is in
  // the database), rejoins and talks, still logged in as alice
  srv = await srv.restart();
  await page.getByRole('status').getByText(/Reconnecting/).waitFor();
  await page.getByRole('status').waitFor({ state: 'detached', timeout: 30_000 });
  const watcher = await srv.client('watcher');
  try {
    watcher.send('JOIN #bsky');
    await watcher.expect(/ 353 watcher = #bsky :.*\balice\b/);
    watcher.send('WHOIS alice');
    await watcher.expect(new RegExp(` 330 watcher alice ${alice.did} `));
    await page.getByRole('navigation').getByRole('button', { name: /#bsky/ }).click();
    await page.getByLabel('Message #bsky').fill('after the restart');
    await page.getByLabel('Message #bsky').press('Enter');
    await watcher.expect(/^:alice!\S+ PRIVMSG #bsky :after the restart$/);
  } finally {
    watcher.destroy();
  }

  // log out: back at the login screen, and a reload does not log in again
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Bluesky handle').waitFor();
  await page.reload();
  await page.getByLabel('Bluesky handle').waitFor();
  assert.equal((await context.cookies(`${base}/auth/token`)).some((c) => c.name === 'freeq_session'), false);
  await context.close();
});

test('a handle that does not exist is said on the login page; nothing leaves it', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/`);
  await page.getByLabel('Bluesky handle').fill('nobody.test');
  await page.getByRole('button', { name: 'Log in with Bluesky' }).click();
  await page.getByRole('status').getByText('That handle was not found').waitFor();
  assert.equal(new URL(page.url()).origin, base);
  await shot(page, 'login-error');
  await page.close();
});
