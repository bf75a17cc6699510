import type { CommandSpec } from './registry.js';
import cap from './cap.js';
import join from './join.js';
import lusers from './lusers.js';
import motd from './motd.js';
import nick from './nick.js';
import notice from './notice.js';
import part from './part.js';
import pass from './pass.js';
import ping from './ping.js';
import pong from './pong.js';
import privmsg from './privmsg.js';
import quit from './quit.js';
import tagmsg from './tagmsg.js';
import user from './user.js';

/** The command table: one file per verb, registered here. */
export const COMMANDS: readonly CommandSpec[] = [
  cap, join, lusers, motd, nick, notice, part, pass, ping, pong, privmsg, quit, tagmsg, user,
];

export function commandTable(): Map<string, CommandSpec> {
  return new Map(COMMANDS.map((c) => [c.name, c]));
}
