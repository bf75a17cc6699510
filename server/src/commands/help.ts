import * as N from '../protocol/numerics.js';
import { safeParam } from '../protocol/validate.js';
import type { CommandContext } from './context.js';
import { defineCommand, type CommandSpec } from './registry.js';

/**
 * Commands with help text, by name: only those are listed (nothing advertised is a stub). The
 * table is the dispatcher's (commands/dispatch.ts), handed over in the context: no import of
 * index.ts, which imports this file.
 */
function documented(ctx: CommandContext): CommandSpec[] {
  return ctx.commands.filter((c) => c.help).sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Greedy word wrap of `words` into lines of at most `max` characters. */
function wrap(words: string[], max: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > max) { out.push(line); line = w; }
    else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}

function sendHelp(ctx: CommandContext, subject: string, title: string, body: string[]): void {
  ctx.numeric(N.RPL_HELPSTART, subject, title);
  // modern.ircdocs.horse#help-message: the first RPL_HELPTXT SHOULD be empty
  ctx.numeric(N.RPL_HELPTXT, subject, '');
  for (const l of body) ctx.numeric(N.RPL_HELPTXT, subject, l);
  ctx.numeric(N.RPL_ENDOFHELP, subject, 'End of /HELP');
}

/**
 * HELP [<subject>] — 704/705/706 (modern.ircdocs.horse#help-message) from each command's `help`
 * text (first line: usage). No subject: the list of commands. Unknown: 524 ERR_HELPNOTFOUND.
 */
export default defineCommand({
  name: 'HELP',
  help: 'HELP [<command>]\nShows help on a command, or lists all commands.',
  run(ctx, [subject]) {
    if (subject === undefined || subject === '') {
      const names = documented(ctx).map((c) => (c.oper ? `${c.name}*` : c.name));
      sendHelp(ctx, '*', '** freeq help **', [
        'HELP <command> shows help on one command. Commands (* = operators only):',
        ...wrap(names, 72),
      ]);
      return;
    }
    const name = subject.toUpperCase();
    const cmd = documented(ctx).find((c) => c.name === name);
    if (!cmd) { ctx.numeric(N.ERR_HELPNOTFOUND, safeParam(subject), 'No help available on this topic'); return; }
    const [usage, ...rest] = cmd.help!.split('\n');
    sendHelp(ctx, cmd.name, usage!, cmd.oper ? [...rest, 'Operators only.'] : rest);
  },
});
