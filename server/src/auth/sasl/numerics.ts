// SASL numerics (IRCv3 sasl-3.1 / modern.ircdocs.horse), named as in irctest numerics.py.
// Kept here rather than in protocol/numerics.ts so the SASL module is self-contained; they can be
// moved there verbatim.
export const RPL_LOGGEDIN = '900';
export const RPL_LOGGEDOUT = '901';
export const ERR_NICKLOCKED = '902';
export const RPL_SASLSUCCESS = '903';
export const ERR_SASLFAIL = '904';
export const ERR_SASLTOOLONG = '905';
export const ERR_SASLABORTED = '906';
export const ERR_SASLALREADY = '907';
export const RPL_SASLMECHS = '908';

export const TEXT_SASLSUCCESS = 'SASL authentication successful';
export const TEXT_SASLFAIL = 'SASL authentication failed';
export const TEXT_SASLTOOLONG = 'SASL message too long';
export const TEXT_SASLABORTED = 'SASL authentication aborted';
export const TEXT_SASLALREADY = 'You have already authenticated using SASL';
export const TEXT_SASLMECHS = 'are available SASL mechanisms';
