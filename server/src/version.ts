export const VERSION = 'freeq-0.1.0';
