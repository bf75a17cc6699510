import type { CommandSpec } from './registry.js';
import admin from './admin.js';
import apitoken from './apitoken.js';
import authenticate from './authenticate.js';
import away from './away.js';
import batch from './batch.js';
import cap from './cap.js';
import chathistory from './chathistory.js';
import help from './help.js';
import info from './info.js';
import invite from './invite.js';
import ison from './ison.js';
import join from './join.js';
import kick from './kick.js';
import kill from './kill.js';
import list from './list.js';
import lockdown from './lockdown.js';
import lusers from './lusers.js';
import markread from './markread.js';
import mode from './mode.js';
import motd from './motd.js';
import names from './names.js';
import nick from './nick.js';
import notice from './notice.js';
import oper from './oper.js';
import part from './part.js';
import pass from './pass.js';
import ping from './ping.js';
import pong from './pong.js';
import privmsg from './privmsg.js';
import quit from './quit.js';
import setname from './setname.js';
import tagmsg from './tagmsg.js';
import time from './time.js';
import uban from './uban.js';
import topic from './topic.js';
import user from './user.js';
import userhost from './userhost.js';
import version from './version.js';
import wallops from './wallops.js';
import who from './who.js';
import whois from './whois.js';
import whowas from './whowas.js';

/** The command table: one file per verb, registered here; commands/dispatch.ts runs it (server.ts wires them). */
export const COMMANDS: readonly CommandSpec[] = [
  admin, apitoken, authenticate, away, batch, cap, chathistory, help, info, invite, ison, join, kick, kill, list, lockdown, lusers, markread, mode, motd, names, nick, notice, oper, part, pass, ping, pong, privmsg, quit, setname, tagmsg, time, topic, uban, user, userhost, version, wallops, who, whois, whowas,
];
