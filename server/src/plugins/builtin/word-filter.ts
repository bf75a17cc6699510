import type { MessageDecision, MessageEvent, Plugin } from '../api.js';
import { listOption } from '../options.js';
import type { PluginDefinition } from '../registry.js';
import { foldCase } from '../../protocol/casemap.js';

const ACTIONS = ['mask', 'suppress'] as const;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** whole words, case-insensitive, Unicode-aware: `bar` matches "Bar!" but not "barn" */
function wordPattern(words: string[]): RegExp {
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${words.map(escapeRegex).join('|')})(?![\\p{L}\\p{N}_])`, 'giu');
}

/**
 * word-filter: PRIVMSG/NOTICE text containing a listed word is masked (`****`) or not delivered.
 *
 *   --plugin "word-filter:words=spam|scam,action=mask"
 *   --plugin "word-filter:words=slur,action=suppress,channels=#kids|#help"
 */
export const wordFilter: PluginDefinition = {
  name: 'word-filter',
  description: 'mask or drop messages that contain listed words',
  options: {
    words: 'words to filter, separated by | (whole words, case-insensitive)',
    action: 'mask (replace each letter with *; default) or suppress (the message is not delivered)',
    channels: 'only these channels, separated by | (default: every channel and private message)',
    notice: 'with action=suppress: a NOTICE sent to the sender when a message is dropped (default: none)',
  },
  required: ['words'],
  validate(o) {
    const problems: string[] = [];
    if (listOption(o.words).length === 0) problems.push('words: give at least one word');
    if (o.action !== undefined && !(ACTIONS as readonly string[]).includes(o.action)) problems.push(`action: must be ${ACTIONS.join(' or ')}`);
    return problems;
  },
  create(o, host): Plugin {
    const pattern = wordPattern(listOption(o.words));
    // compile now (V8 compiles a regex on first use; \p{…} classes are slow the first time),
    // so the first message does not pay for it against the hook budget
    pattern.test('warm up');
    const suppress = o.action === 'suppress';
    const channels = listOption(o.channels).map(foldCase);
    const applies = (target: string): boolean => {
      if (channels.length === 0) return true;
      // a STATUSMSG target (@#chan) is filtered like the channel
      return channels.includes(foldCase(target.replace(/^[@+]+(?=[#&])/, '')));
    };
    return {
      name: 'word-filter',
      onMessage(e: MessageEvent): MessageDecision | void {
        if (!applies(e.target)) return;
        pattern.lastIndex = 0;
        if (!pattern.test(e.text)) return;
        if (suppress) {
          if (o.notice) host.noticeUser(e.nick, o.notice);
          return { action: 'suppress', reason: 'filtered word' };
        }
        return { action: 'rewrite', text: e.text.replace(pattern, (w) => '*'.repeat([...w].length)) };
      },
    };
  },
};
