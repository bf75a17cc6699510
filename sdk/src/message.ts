/**
 * Minimal IRC line parsing/serialization for the client (RFC 1459 framing + IRCv3 message tags).
 * Lenient by design: a client must cope with whatever the server sends.
 */

export interface IrcMessage {
  tags: Record<string, string>;
  /** `nick!user@host` or a server name; undefined when the line has no prefix */
  source?: string;
  command: string;
  params: string[];
}

const TAG_UNESCAPES: Record<string, string> = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };

function unescapeTag(v: string): string {
  return v.replace(/\\(.?)/g, (_m, c: string) => (c === '' ? '' : (TAG_UNESCAPES[c] ?? c)));
}

/** Parse one line (without CR/LF). Returns undefined for an empty or command-less line. */
export function parseMessage(line: string): IrcMessage | undefined {
  let rest = line.replace(/[\r\n]+$/, '');
  const tags: Record<string, string> = {};
  if (rest.startsWith('@')) {
    const sp = rest.indexOf(' ');
    if (sp < 0) return undefined;
    for (const part of rest.slice(1, sp).split(';')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      if (eq < 0) tags[part] = '';
      else tags[part.slice(0, eq)] = unescapeTag(part.slice(eq + 1));
    }
    rest = rest.slice(sp + 1).replace(/^ +/, '');
  }
  let source: string | undefined;
  if (rest.startsWith(':')) {
    const sp = rest.indexOf(' ');
    if (sp < 0) return undefined;
    source = rest.slice(1, sp);
    rest = rest.slice(sp + 1).replace(/^ +/, '');
  }
  const params: string[] = [];
  let command = '';
  while (rest.length) {
    if (command && rest.startsWith(':')) {
      params.push(rest.slice(1));
      break;
    }
    const sp = rest.indexOf(' ');
    const word = sp < 0 ? rest : rest.slice(0, sp);
    rest = sp < 0 ? '' : rest.slice(sp + 1).replace(/^ +/, '');
    if (!command) command = word.toUpperCase();
    else params.push(word);
  }
  if (!command) return undefined;
  const msg: IrcMessage = { tags, command, params };
  if (source !== undefined) msg.source = source;
  return msg;
}

/** The nick part of a `nick!user@host` source (the whole source when it has no `!`). */
export function nickOf(source: string | undefined): string {
  if (!source) return '';
  const bang = source.indexOf('!');
  return bang < 0 ? source : source.slice(0, bang);
}

/**
 * Build a line from a command and params. The last param is sent as a trailing (`:`) param when
 * it needs to be (empty, contains a space or starts with `:`). Refuses CR, LF and NUL so user
 * input can never inject a second command.
 */
export function buildLine(command: string, ...params: string[]): string {
  for (const p of [command, ...params]) {
    if (/[\r\n\0]/.test(p)) throw new Error('IRC parameters must not contain CR, LF or NUL');
  }
  const out = [command];
  params.forEach((p, i) => {
    const last = i === params.length - 1;
    if (last && (p === '' || p.includes(' ') || p.startsWith(':'))) out.push(`:${p}`);
    else if (p === '' || p.includes(' ') || p.startsWith(':')) throw new Error(`middle parameter ${JSON.stringify(p)} is not allowed`);
    else out.push(p);
  });
  return out.join(' ');
}
