// Mode letters as advertised to clients (ISUPPORT CHANMODES / PREFIX, RPL_MYINFO): protocol-level data
// that protocol/isupport.ts needs without importing state/. state/modes.ts re-exports them.

// CHANMODES=A,B,C,D (modern.ircdocs.horse#chanmodes-parameter) plus PREFIX=(ov)@+
export const CHANMODES = { A: 'beI', B: 'k', C: 'l', D: 'imnpst' } as const;
export const CHANMODES_TOKEN = `${CHANMODES.A},${CHANMODES.B},${CHANMODES.C},${CHANMODES.D}`;
export const PREFIX_MODE_LETTERS = 'ov';
/** i invisible, o operator, s server notices (operators only: session/server-notices.ts), w wallops, B bot */
export const USER_MODES = 'ioswB';
export const ALL_CHANNEL_MODES = CHANMODES.A + CHANMODES.B + CHANMODES.C + CHANMODES.D + PREFIX_MODE_LETTERS;
