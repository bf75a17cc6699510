// SASL reply texts; the codes live in protocol/numerics.ts with every other numeric.
export { RPL_LOGGEDIN, RPL_LOGGEDOUT, ERR_NICKLOCKED, RPL_SASLSUCCESS, ERR_SASLFAIL, ERR_SASLTOOLONG, ERR_SASLABORTED, ERR_SASLALREADY, RPL_SASLMECHS } from '../../protocol/numerics.js';

export const TEXT_SASLSUCCESS = 'SASL authentication successful';
export const TEXT_SASLFAIL = 'SASL authentication failed';
export const TEXT_SASLTOOLONG = 'SASL message too long';
export const TEXT_SASLABORTED = 'SASL authentication aborted';
export const TEXT_SASLALREADY = 'You have already authenticated using SASL';
export const TEXT_SASLMECHS = 'are available SASL mechanisms';
