import assert from 'node:assert/strict';
import type { TestServer } from '../harness/server.js';
import { parse, type RawClient } from '../harness/raw-client.js';
import { cryptoResponse, readChallenge, responseLines, type Signer } from './sasl-helpers.js';

export const HISTORY_CAPS = ['batch', 'server-time', 'message-tags', 'draft/chathistory'];

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A line's tags as an object. */
export function tagsOf(line: string): Record<string, string> {
  return Object.fromEntries(parse(line).tags);
}

/** A line without its tags. */
export const untagged = (line: string): string => (line.startsWith('@') ? line.slice(line.indexOf(' ') + 1) : line);

export interface HistoryReply {
  /** the BATCH +id line */
  open: string;
  id: string;
  /** the lines between the BATCH lines */
  items: string[];
}

/** Send a CHATHISTORY command and collect its batch (type `chathistory` unless told otherwise). */
export async function history(c: RawClient, command: string, type = 'chathistory'): Promise<HistoryReply> {
  c.send(command);
  const open = await c.expect(new RegExp(`^(@\\S+ )?:irc\\.test BATCH \\+\\S+ ${type.replace(/[/]/g, '\\/')}( |$)`));
  const id = /BATCH \+(\S+)/.exec(open)![1]!;
  const lines = await c.collectUntil((l) => untagged(l) === `:irc.test BATCH -${id}`);
  return { open, id, items: lines.slice(0, -1) };
}

/** Texts of the PRIVMSG items of a batch. */
export const texts = (r: HistoryReply): string[] => r.items.map((l) => parse(l).params[1]!);

/** A message as one receiver saw it live (with msgid and time). */
export interface Seen { line: string; msgid: string; time: string; text: string }

/**
 * `sender` sends each text to `target`; `receiver` (message-tags + server-time) records how it
 * saw each one. With `spacing`, messages are at least that many ms apart (distinct timestamps).
 */
export async function seed(sender: RawClient, receiver: RawClient, target: string, textsToSend: string[], spacing = 0): Promise<Seen[]> {
  const seen: Seen[] = [];
  for (const t of textsToSend) {
    sender.send(`PRIVMSG ${target} :${t}`);
    if (spacing > 0) {
      seen.push(see(await receiver.expect((_l, m) => m.command === 'PRIVMSG' && m.params[1] === t)));
      await sleep(spacing);
    }
  }
  if (spacing === 0) for (const t of textsToSend) seen.push(see(await receiver.expect((_l, m) => m.command === 'PRIVMSG' && m.params[1] === t)));
  return seen;
}

function see(line: string): Seen {
  const tags = tagsOf(line);
  assert.ok(tags.msgid && tags.time, `live line has msgid and time: ${line}`);
  return { line, msgid: tags.msgid, time: tags.time, text: parse(line).params[1]! };
}

/** Log in over real SASL ATPROTO-CHALLENGE (crypto, did:key) and register with `caps`. */
export async function saslClient(srv: TestServer, nick: string, s: Signer, caps: string[] = []): Promise<RawClient> {
  const c = await srv.connect();
  c.send('CAP LS 302', `NICK ${nick}`, `USER ${nick} 0 * :${nick}`, `CAP REQ :${['sasl', ...caps].join(' ')}`);
  await c.expect(/ CAP \S+ ACK /);
  c.send('AUTHENTICATE ATPROTO-CHALLENGE');
  const ch = await readChallenge(c);
  c.send(...responseLines(await cryptoResponse(s, ch)));
  await c.expect('903');
  c.send('CAP END');
  await c.expect(/ (376|422) /);
  c.nick = nick;
  return c;
}
