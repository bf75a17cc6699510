/**
 * Browser tests' common parts (#15): Debian's Chromium (headless, through playwright-core; another
 * binary with CHROMIUM_PATH), the built web client (built once if web/dist is missing), the web
 * client's guest login and join, and screenshots in test-artifacts/ checked for being images.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const ARTIFACTS = resolve(ROOT, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** headless Chromium; with `webClient`, web/dist is built first when missing */
export async function launchBrowser(opts: { webClient?: boolean } = {}): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`);
  if (opts.webClient && !existsSync(resolve(ROOT, 'web/dist/index.html'))) {
    const r = spawnSync('npm', ['run', 'build', '-w', 'web'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

/** a screenshot of `page` as test-artifacts/<name>.png */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = resolve(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  assert.ok(statSync(file).size > 2000, `${name}.png is an image`);
}

/** the web client at `base` (http://127.0.0.1:<port>): a guest with `nick`, until the chat shows */
export async function guestLogin(page: Page, base: string, nick: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('Nickname').fill(nick);
  await page.getByRole('button', { name: 'Join as guest' }).click();
  await page.getByLabel('Join a channel').waitFor();
}

/** join `channel` from the sidebar's form, until its conversation shows */
export async function joinChannel(page: Page, channel: string): Promise<void> {
  await page.getByLabel('Join a channel').fill(channel);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await page.getByRole('heading', { name: channel }).waitFor();
}

/** the conversation's log */
export const logOf = (page: Page) => page.getByRole('log');
