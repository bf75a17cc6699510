import { CHANMODES_TOKEN } from './mode-letters.js';

/**
 * The configured values RPL_ISUPPORT advertises: the limits the server enforces and the network
 * name. Named as the config/options.ts options they come from, so the server's `Config` is one
 * (server.ts passes it as is); protocol/ itself never imports config/.
 */
export interface IsupportValues {
  readonly networkName: string;
  readonly nickLen: number;
  readonly userLen: number;
  /** NAMELEN: longest realname (IRCv3 setname) */
  readonly realnameLen: number;
  readonly channelLen: number;
  readonly topicLen: number;
  readonly kickLen: number;
  readonly awayLen: number;
  /** CHANLIMIT: channels one user may be in */
  readonly maxChannels: number;
  /** MAXTARGETS and the message commands' TARGMAX */
  readonly maxTargets: number;
  /** MAXLIST: entries per ban/except/invex list */
  readonly maxListEntries: number;
  /** MODES: mode changes with a parameter per MODE line */
  readonly maxModes: number;
  /** KNOCK: the KNOCK command is enabled */
  readonly knock: boolean;
  /** MONITOR: nicks one client may watch (IRCv3 monitor) */
  readonly monitorLimit: number;
  /** CHATHISTORY: most messages per request */
  readonly historyQueryLimit: number;
  /** freeq.at/CHATHISTORYBYTES and freeq.at/CHATHISTORYLINES: the budget of one reply */
  readonly historyReplyMaxBytes: number;
  readonly historyReplyMaxLines: number;
}

/**
 * RPL_ISUPPORT tokens, generated from config so they are always truthful (Ergo does the same,
 * ergo:irc/config.go). Every token here is implemented.
 */
export function isupportTokens(c: IsupportValues): string[] {
  const t = c.maxTargets;
  return [
    `AWAYLEN=${c.awayLen}`,
    'BOT=B',
    'CASEMAPPING=rfc1459',
    `CHANLIMIT=#:${c.maxChannels}`,
    `CHANMODES=${CHANMODES_TOKEN}`,
    `CHANNELLEN=${c.channelLen}`,
    `CHATHISTORY=${c.historyQueryLimit}`, // draft/chathistory: most messages per request
    'CHANTYPES=#',
    'ELIST=CMNTU',
    'EXCEPTS=e',
    // #12: the byte and line budget of one CHATHISTORY reply (vendor tokens; the spec's
    // CHATHISTORY=<n> counts messages only). A reply over it ends early, see commands/chathistory.ts
    `freeq.at/CHATHISTORYBYTES=${c.historyReplyMaxBytes}`,
    `freeq.at/CHATHISTORYLINES=${c.historyReplyMaxLines}`,
    'INVEX=I',
    `KICKLEN=${c.kickLen}`,
    ...(c.knock ? ['KNOCK'] : []), // the KNOCK command (commands/knock.ts)
    `MAXLIST=beI:${c.maxListEntries}`,
    `MAXTARGETS=${t}`,
    `MODES=${c.maxModes}`,
    `MONITOR=${c.monitorLimit}`, // IRCv3 monitor: the most targets in one client's list
    'MSGREFTYPES=msgid,timestamp', // draft/chathistory message references
    `NAMELEN=${c.realnameLen}`, // IRCv3 setname: MUST be advertised
    `NETWORK=${c.networkName}`,
    `NICKLEN=${c.nickLen}`,
    'PREFIX=(ov)@+',
    'SAFELIST',
    'STATUSMSG=@+',
    `TARGMAX=JOIN:,KICK:${t},LIST:1,NAMES:1,NOTICE:${t},PART:,PRIVMSG:${t},TAGMSG:${t},WHOIS:1,USERHOST:5,ISON:`,
    `TOPICLEN=${c.topicLen}`,
    `USERLEN=${c.userLen}`,
    'UTF8ONLY',
    'WHOX',
  ];
}

/** 005 lines: at most 13 tokens each (modern.ircdocs.horse#rplisupport-005). */
export function isupportLines(tokens: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < tokens.length; i += 13) out.push(tokens.slice(i, i + 13));
  return out;
}
