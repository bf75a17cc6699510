/** Time source for every window and timeout in limits/ (style.md §3): tests pass a fake one. */
export interface Clock { now(): number }

export const systemClock: Clock = { now: () => Date.now() };
