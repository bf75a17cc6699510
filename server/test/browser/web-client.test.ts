import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import IRC from 'irc-framework';
import type { Browser, Page } from 'playwright-core';
import { guestLogin, joinChannel, launchBrowser, logOf, shot } from '../harness/browser.js';
import { freeTcpPort } from '../harness/federation.js';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { ed25519Signer, loginWithDidKey } from '../conformance/sasl-helpers.js';

// The web client in a real browser (#15): Debian's Chromium, headless, driven by playwright-core,
// against a real server: guest login, join, messages both ways with a stock IRC client, history
// for a second browser and after a reload, reconnecting after a server restart, the mobile
// layout. Screenshots of the main views go to test-artifacts/ (checked for the essentials only).

let browser: Browser;
let srv: TestServer;
let webPort: number;
const raws: RawClient[] = [];

before(async () => {
  webPort = await freeTcpPort();
  srv = await bootServer({ 'web-addr': `127.0.0.1:${webPort}` });
  browser = await launchBrowser({ webClient: true });
});
after(async () => {
  for (const r of raws) r.destroy();
  await browser?.close();
  await srv?.stop();
});

const login = (page: Page, nick: string): Promise<void> => guestLogin(page, `http://127.0.0.1:${webPort}`, nick);
const join = joinChannel;
const log = logOf;

test('guest login, join, messages both ways with an IRC client, history for another browser and after a reload', async () => {
  const page = await browser.newPage();
  await login(page, 'webuser');
  await shot(page, 'joined-none');
  await join(page, '#web');
  const irc = await srv.client('ircuser');
  raws.push(irc);
  irc.send('JOIN #web');
  await irc.expect(/ 366 ircuser #web /);
  // the member list: webuser (operator: the channel's first member) and the IRC user
  const members = page.getByLabel('Members of #web');
  await members.getByText('ircuser').waitFor();
  await members.getByRole('listitem').filter({ hasText: 'webuser' }).getByLabel('operator').waitFor();
  irc.send('PRIVMSG #web :hello browser');
  await log(page).getByText('hello browser').waitFor();
  // and a stock client library, irc-framework, both ways too
  const fw = new IRC.Client({ auto_reconnect: false });
  const fwHeard = new Promise<string>((resolveHeard) => fw.on('privmsg', (e: { nick: string; message: string }) => { if (e.nick === 'webuser') resolveHeard(e.message); }));
  try {
    const registered = new Promise<void>((r) => fw.once('registered', () => r()));
    fw.connect({ host: '127.0.0.1', port: srv.port, nick: 'fwuser', username: 'fwuser', gecos: 'irc-framework' });
    await registered;
    const fwJoined = new Promise<void>((r) => fw.on('join', (e: { nick: string }) => { if (e.nick === 'fwuser') r(); }));
    fw.join('#web');
    await fwJoined;
    fw.say('#web', 'hello from irc-framework');
    await log(page).getByText('hello from irc-framework').waitFor();
    await page.getByLabel('Message #web').fill('hello irc');
    await page.getByRole('button', { name: 'Send' }).click();
    await irc.expect(/^:webuser!\S+ PRIVMSG #web :hello irc$/);
    assert.equal(await fwHeard, 'hello irc');
  } finally {
    fw.quit('bye');
  }
  await log(page).getByText('hello irc').waitFor(); // its own message, echoed by the server
  // /commands in the message box: an action, and a join and part of another channel
  await page.getByLabel('Message #web').fill('/me waves');
  await page.getByLabel('Message #web').press('Enter');
  // eslint-disable-next-line no-control-regex -- CTCP ACTION is framed by \x01
  await irc.expect(/^:webuser!\S+ PRIVMSG #web :\x01ACTION waves\x01$/);
  await log(page).getByText('* webuser').waitFor();
  await page.getByLabel('Message #web').fill('/join #second');
  await page.getByLabel('Message #web').press('Enter');
  await page.getByRole('heading', { name: '#second' }).waitFor();
  await page.getByRole('button', { name: 'Leave' }).click();
  await page.getByRole('heading', { name: '#web' }).waitFor();
  await page.getByRole('navigation').getByRole('button', { name: '#second' }).waitFor({ state: 'detached' });
  // a logged-in user's message carries the server's signature: checked in the page, marked; a guest's is not
  const signer = ed25519Signer();
  const dk = await loginWithDidKey(srv, 'keyed', signer, ['message-tags']);
  raws.push(dk);
  dk.send('JOIN #web');
  await dk.expect(/ 366 keyed #web /);
  dk.send('PRIVMSG #web :a signed message');
  const signedLine = log(page).locator('.line').filter({ hasText: 'a signed message' });
  await signedLine.getByRole('img', { name: `signed for ${signer.did}` }).waitFor();
  // and the sender's account on hover (account-tag); a guest's name has none
  assert.equal(await signedLine.locator('b').getAttribute('title'), `logged in as ${signer.did}`);
  assert.equal(await log(page).locator('.line').filter({ hasText: 'hello browser' }).locator('b').getAttribute('title'), null);
  assert.equal(await log(page).locator('.line').filter({ hasText: 'hello browser' }).getByRole('img').count(), 0, 'a guest\'s message is not signed');
  await shot(page, 'signed');
  // what the server refuses is said: a +i channel
  irc.send('JOIN #closed', 'MODE #closed +i');
  await irc.expect(/ MODE #closed \+i$/);
  await page.getByLabel('Message #web').fill('/join #closed');
  await page.getByLabel('Message #web').press('Enter');
  await log(page).getByText('#closed Cannot join channel (+i)').waitFor();
  await shot(page, 'channel');

  // a second browser joins later: the history is there
  const other = await browser.newPage();
  await login(other, 'latecomer');
  await join(other, '#web');
  await log(other).getByText('hello browser').waitFor();
  await log(other).getByText('hello irc').waitFor();
  // typing (IRCv3 +typing over TAGMSG): shown to the other browser while webuser types, gone once sent
  await page.getByLabel('Message #web').pressSequentially('still typ');
  await other.getByText('webuser is typing…').waitFor();
  await page.getByRole('button', { name: 'Send' }).click();
  await log(other).getByText('still typ').waitFor();
  await other.getByText('webuser is typing…').waitFor({ state: 'detached' });
  // unread counts: a message to a channel that is not shown
  await join(other, '#elsewhere');
  irc.send('PRIVMSG #web :while you looked elsewhere');
  await other.getByLabel('1 unread').waitFor();
  // a message that names latecomer: a mention, counted apart and highlighted
  irc.send('PRIVMSG #web :latecomer, a word with you');
  await other.getByLabel('1 mention').waitFor();
  await other.getByLabel('2 unread').waitFor();
  // keyboard: Alt+↑ goes to the previous conversation, where the messages are
  await other.getByLabel('Message #elsewhere').press('Alt+ArrowUp');
  await other.getByRole('heading', { name: '#web' }).waitFor();
  await log(other).getByText('while you looked elsewhere').waitFor();
  await log(other).locator('.line.mention').getByText('a word with you').waitFor();
  assert.equal(await log(other).locator('.line.mention').count(), 1, 'only the line that names latecomer');
  await shot(other, 'mention');
  // an IRC user who leaves leaves the list
  irc.send('PART #web :bye');
  await other.getByLabel('Members of #web').getByText('ircuser').waitFor({ state: 'detached' });
  irc.send('JOIN #web');
  await irc.expect(/ 366 ircuser #web /);
  await other.close();

  // a reload comes back by itself (web/src/saved.ts): the same nick, the channel, its history
  await page.reload();
  await page.getByRole('heading', { name: '#web' }).waitFor();
  await log(page).getByText('hello browser').waitFor();
  assert.equal(await page.getByRole('navigation').locator('.me .nick').textContent(), 'webuser');
  await page.close();
});

test('the page reconnects by itself after a server restart, rejoins and can talk again', async () => {
  const page = await browser.newPage();
  await login(page, 'sticky');
  await join(page, '#r');
  srv = await srv.restart();
  await page.getByRole('status').getByText(/Reconnecting/).waitFor();
  await page.getByRole('status').waitFor({ state: 'detached', timeout: 30_000 });
  const irc = await srv.client('watcher');
  raws.push(irc);
  irc.send('JOIN #r');
  await irc.expect(/ 353 watcher = #r :.*\bsticky\b/);
  await page.getByLabel('Message #r').fill('back again');
  await page.getByRole('button', { name: 'Send' }).click();
  await irc.expect(/^:sticky!\S+ PRIVMSG #r :back again$/);
  await page.close();
});

test('a phone-sized viewport: the conversation list above the conversation, nothing cut off', async () => {
  const page = await browser.newPage({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
  await login(page, 'phone');
  await join(page, '#mobile');
  // (runs in the page: the DOM's getComputedStyle; this tsconfig has no DOM types)
  const cols = await page.locator('.chat').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { gridTemplateColumns: string } }).getComputedStyle(el).gridTemplateColumns);
  assert.equal(cols.split(' ').length, 1, `one column (${cols})`);
  const input = await page.getByLabel('Message #mobile').boundingBox();
  assert.ok(input && input.x >= 0 && input.x + input.width <= 375 && input.y + input.height <= 667, JSON.stringify(input));
  await shot(page, 'mobile');
  await page.close();
});
