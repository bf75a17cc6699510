import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { guestLogin, joinChannel, launchBrowser, logOf } from '../harness/browser.js';
import { freeTcpPort } from '../harness/federation.js';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { cryptoResponse, ed25519Signer, loginWithDidKey, readChallenge, responseLines } from '../conformance/sasl-helpers.js';

// The web client's #15 features in a real browser (Debian's Chromium, headless, playwright-core)
// against a real server: multiline messages both ways (draft/multiline), who is logged in among the
// members (WHOX on join, account-notify), the own nick's identity, and a reload that comes back
// with the same nick and channels, the channel list. (Read markers with a logged-in account:
// test/browser/web-login.test.ts and the SDK's tests, test/unit/sdk/read-markers.test.ts.)

let browser: Browser;
let srv: TestServer;
let webPort: number;

before(async () => {
  webPort = await freeTcpPort();
  srv = await bootServer({ 'web-addr': `127.0.0.1:${webPort}` });
  browser = await launchBrowser({ webClient: true });
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

const login = (page: Page, nick: string): Promise<void> => guestLogin(page, `http://127.0.0.1:${webPort}`, nick);

const join = joinChannel;
/** a raw IRC client on `channel` */
async function member(nick: string, channel: string, caps?: string[]): Promise<RawClient> {
  const c = await srv.client(nick, caps ? { caps } : {});
  c.send(`JOIN ${channel}`);
  await c.expect(new RegExp(` 366 ${nick} ${channel} `));
  return c;
}

const log = logOf;
/** what the page keeps for a reload (read in the page; this tsconfig has no DOM types) */
const savedIn = (page: Page): Promise<unknown> => page.evaluate(() => JSON.parse((globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('freeq.saved') ?? 'null') as unknown);
const sidebar = (page: Page) => page.getByRole('navigation');

test('multiline: Shift+Enter starts a line, Enter sends one draft/multiline message; a received batch is one message; a long paste goes whole', async () => {
  // clipboard permissions: the long text below is pasted as a user does (Ctrl+V: one input event)
  const context = await browser.newContext();
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = await context.newPage();
  await login(page, 'mlweb');
  await join(page, '#ml');
  const ml = await member('mlirc', '#ml', ['batch', 'draft/multiline', 'message-tags']);
  const old = await member('oldirc', '#ml');
  const box = page.getByLabel('Message #ml');

  await box.pressSequentially('first line');
  await box.press('Shift+Enter');
  await box.pressSequentially('second line');
  assert.equal(await box.inputValue(), 'first line\nsecond line', 'Shift+Enter is a new line, nothing sent');
  await box.press('Enter');
  const ref = /:mlweb!\S+ BATCH \+(\S+) draft\/multiline #ml$/.exec(await ml.expect(/ BATCH \+\S+ draft\/multiline #ml$/))?.[1];
  assert.ok(ref, 'one draft/multiline batch');
  await ml.expect(new RegExp(`batch=${ref}\\b.* PRIVMSG #ml :first line$`));
  await ml.expect(new RegExp(`batch=${ref}\\b.* PRIVMSG #ml :second line$`));
  await ml.expect(new RegExp(`BATCH -${ref}$`));
  await old.expect(/^:mlweb!\S+ PRIVMSG #ml :first line$/); // the server's fallback for a client without the cap
  await old.expect(/^:mlweb!\S+ PRIVMSG #ml :second line$/);
  assert.equal(await box.inputValue(), '');
  // its own message (echoed as one batch) is one line of the log, with its line break
  const mine = log(page).locator('.line').filter({ hasText: 'first line' });
  await mine.waitFor();
  assert.equal(await mine.count(), 1);
  // textContent, not innerText: a line (content-visibility: auto) that Chromium has not laid out yet has no innerText
  assert.match((await mine.textContent()) ?? '', /first line\nsecond line/);

  ml.send('BATCH +in1 draft/multiline #ml', '@batch=in1 PRIVMSG #ml :alpha', '@batch=in1;draft/multiline-concat PRIVMSG #ml : beta', '@batch=in1 PRIVMSG #ml :gamma', 'BATCH -in1');
  const theirs = log(page).locator('.line').filter({ hasText: 'alpha beta' });
  await theirs.waitFor();
  assert.equal(await theirs.count(), 1);
  assert.match((await theirs.textContent()) ?? '', /mlirc.*alpha beta\ngamma/s);

  // a long paste: 2,000 lines go, in batches within the server's max-lines, none lost
  const text = Array.from({ length: 2000 }, (_, i) => `pasted line ${i + 1}`).join('\n');
  await page.evaluate((t) => (globalThis as unknown as { navigator: { clipboard: { writeText(x: string): Promise<void> } } }).navigator.clipboard.writeText(t), text);
  await box.focus();
  await page.keyboard.press('Control+V');
  assert.equal(await box.inputValue(), text);
  await box.press('Enter');
  const got = await ml.collectUntil(/ PRIVMSG #ml :pasted line 2000$/, 30_000);
  const said = got.filter((l) => / PRIVMSG #ml :pasted line \d+$/.test(l)).map((l) => l.slice(l.lastIndexOf(':') + 1));
  assert.deepEqual(said, text.split('\n'));
  assert.ok(got.filter((l) => / BATCH \+\S+ draft\/multiline #ml$/.test(l)).length >= 20, 'batches of at most max-lines (100)');
  await log(page).getByText(/pasted line 2000$/).waitFor();
  assert.equal(await box.inputValue(), '');
  assert.equal(await log(page).locator('.line.error').count(), 0, 'nothing refused (MARKREAD as a guest included)');
  ml.destroy();
  old.destroy();
  await context.close();
});

test('members: WHOX on join marks every logged-in member, account-notify follows a login; the own nick says guest', async () => {
  const signer = ed25519Signer();
  const keyed = await loginWithDidKey(srv, 'keyed', signer, ['message-tags']);
  keyed.send('JOIN #who');
  await keyed.expect(/ 366 keyed #who /);
  const guest = await member('plainguest', '#who', ['account-notify']);
  // joined before the page: it learns who is logged in from WHOX, not from extended-join
  const page = await browser.newPage();
  await login(page, 'watcher');
  assert.equal(await sidebar(page).locator('.me .identity').textContent(), 'guest');
  await join(page, '#who');
  const members = page.getByLabel('Members of #who');
  const row = (nick: string) => members.getByRole('listitem').filter({ hasText: nick });
  await row('keyed').getByRole('img', { name: `logged in as ${signer.did}` }).waitFor();
  assert.equal(await row('keyed').getByRole('img').getAttribute('title'), signer.did);
  assert.equal(await row('plainguest').getByRole('img').count(), 0, 'a guest has no ✓');
  assert.equal(await row('watcher').getByRole('img').count(), 0);

  // plainguest logs in now (SASL after registration): account-notify tells the page
  const later = ed25519Signer();
  guest.send('CAP REQ :sasl');
  await guest.expect(/ CAP \S+ ACK :?sasl$/);
  guest.send('AUTHENTICATE ATPROTO-CHALLENGE');
  guest.send(...responseLines(await cryptoResponse(later, await readChallenge(guest))));
  await guest.expect(/ 903 /);
  await row('plainguest').getByRole('img', { name: `logged in as ${later.did}` }).waitFor();
  keyed.destroy();
  guest.destroy();
  await page.close();
});

test('a reload comes back with the same nick, channels and conversation; Leave takes a channel off, Log out forgets', async () => {
  const page = await browser.newPage();
  await login(page, 'reloader');
  for (const ch of ['#one', '#two', '#three']) await join(page, ch);
  await sidebar(page).getByRole('button', { name: '#two' }).click();
  await page.getByRole('heading', { name: '#two' }).waitFor();
  // (kept after the view changed: wait for it)
  for (let i = 0; i < 100 && (await savedIn(page) as { current?: string } | null)?.current !== '#two'; i++) await page.waitForTimeout(20);
  assert.deepEqual(await savedIn(page), { nick: 'reloader', channels: ['#one', '#two', '#three'], current: '#two' }, 'a nick and channel names: nothing secret');

  await page.reload();
  await page.getByRole('heading', { name: '#two' }).waitFor();
  for (const ch of ['#one', '#three']) await sidebar(page).getByRole('button', { name: ch }).waitFor();
  assert.equal(await sidebar(page).locator('.me .nick').textContent(), 'reloader');
  const irc = await member('witness', '#one');
  irc.send('NAMES #one');
  await irc.expect(/ 353 witness [=*@] #one :.*\breloader\b/);

  // Leave: not rejoined after the next reload
  await sidebar(page).getByRole('button', { name: '#three' }).click();
  await page.getByRole('button', { name: 'Leave' }).click();
  await sidebar(page).getByRole('button', { name: '#three' }).waitFor({ state: 'detached' });
  assert.deepEqual((await savedIn(page) as { channels: string[] }).channels, ['#one', '#two']);
  await page.reload();
  await sidebar(page).getByRole('button', { name: '#one' }).waitFor();
  await sidebar(page).getByRole('button', { name: '#two' }).waitFor();
  assert.equal(await sidebar(page).getByRole('button', { name: '#three' }).count(), 0);
  irc.send('NAMES #three');
  assert.ok(!(await irc.collectUntil(/ 366 witness #three /)).some((l) => / 353 .*\breloader\b/.test(l)), 'not rejoined');

  // Log out: the connection ends, nothing is kept, a reload shows the login with no nick filled in
  await sidebar(page).getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Nickname').waitFor();
  await irc.expect(/^:reloader!\S+ QUIT :.*Logged out/);
  await page.reload();
  await page.getByLabel('Nickname').waitFor();
  assert.equal(await page.getByLabel('Nickname').inputValue(), '');
  assert.equal(await savedIn(page), null);
  irc.destroy();
  await page.close();
});

test('the channel list: every public channel with its users and topic, filtered, joined with a click; a secret one is not there', async () => {
  const owner = await member('lister', '#busy-list');
  owner.send('TOPIC #busy-list :where everyone is', 'JOIN #quiet-list', 'JOIN #hidden-list', 'MODE #hidden-list +s');
  await owner.expect(/ MODE #hidden-list \+s$/);
  const second = await member('lister2', '#busy-list');
  const page = await browser.newPage();
  await login(page, 'browser1');
  await sidebar(page).getByRole('button', { name: 'Browse channels' }).click();
  const list = page.getByRole('region', { name: 'Channels on this server' });
  await list.getByRole('button', { name: 'Join #busy-list, 2 users' }).waitFor();
  await list.getByText('where everyone is').waitFor();
  await list.getByRole('button', { name: 'Join #quiet-list, 1 user' }).waitFor();
  assert.equal(await list.getByText('#hidden-list').count(), 0, 'a +s channel is not listed');
  // most users first
  const names = await list.locator('li b').allTextContents();
  assert.ok(names.indexOf('#busy-list') < names.indexOf('#quiet-list'), names.join(' '));
  await list.getByLabel('Filter channels').fill('everyone');
  await list.getByRole('button', { name: /#quiet-list/ }).waitFor({ state: 'detached' });
  await list.getByRole('button', { name: 'Join #busy-list, 2 users' }).click();
  await page.getByRole('heading', { name: '#busy-list' }).waitFor();
  await page.getByLabel('Members of #busy-list').getByText('lister2').waitFor();
  owner.destroy();
  second.destroy();
  await page.close();
});

test('redaction: Delete (pressed twice) withdraws an own message for everyone; a message withdrawn by its sender loses its text here', async () => {
  const watcher = await member('redwatch', '#redact', ['draft/message-redaction', 'message-tags', 'echo-message']);
  const page = await browser.newPage();
  await login(page, 'redweb');
  await join(page, '#redact');
  await page.getByLabel('Message #redact').fill('oops, wrong channel');
  await page.getByLabel('Message #redact').press('Enter');
  const sent = await watcher.expect(/^@\S*msgid=(\S+?)[; ]\S* ?:redweb!\S+ PRIVMSG #redact :oops, wrong channel$/);
  const msgid = /msgid=([^; ]+)/.exec(sent)![1]!;
  const line = log(page).locator('.line').filter({ hasText: 'oops, wrong channel' });
  await line.hover();
  await line.getByRole('button', { name: 'Delete message' }).click();
  await line.getByRole('button', { name: 'Confirm: delete this message' }).click();
  await watcher.expect(new RegExp(`:redweb!\\S+ REDACT #redact ${msgid}$`));
  await log(page).locator('.line.redacted').getByText('message deleted').waitFor();
  assert.equal(await log(page).getByText('oops, wrong channel').count(), 0);
  // someone else's message: no Delete for a guest who is not an operator there
  watcher.send('PRIVMSG #redact :mine to take back');
  const theirs = log(page).locator('.line').filter({ hasText: 'mine to take back' });
  await theirs.waitFor();
  assert.equal(await theirs.getByRole('button').count(), 0);
  const echoed = await watcher.expect(/^@\S*msgid=(\S+?)[; ]\S* ?:redwatch!\S+ PRIVMSG #redact :mine to take back$/);
  watcher.send(`REDACT #redact ${/msgid=([^; ]+)/.exec(echoed)![1]!}`);
  await log(page).getByText('mine to take back').waitFor({ state: 'detached' });
  assert.equal(await log(page).locator('.line.redacted').count(), 2);
  watcher.destroy();
  await page.close();
});
