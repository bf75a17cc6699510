import type { Config } from '../config/schema.js';
import { CHANMODES_TOKEN } from './mode-letters.js';

/**
 * RPL_ISUPPORT tokens, generated from config so they are always truthful (Ergo does the same,
 * ergo:irc/config.go). Every token here is implemented.
 */
export function isupportTokens(c: Config): string[] {
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
    `MAXLIST=beI:${c.maxListEntries}`,
    `MAXTARGETS=${t}`,
    `MODES=${c.maxModes}`,
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
