/** An IRC message as data. Tags keep insertion order (Map) so serialization is stable. */
export interface IrcMessage {
  tags: Map<string, string>;
  /** `nick!user@host` or a server name, without the leading ':' */
  source?: string;
  command: string;
  params: string[];
}

export function msg(command: string, params: string[] = [], source?: string, tags?: Map<string, string>): IrcMessage {
  return { tags: tags ?? new Map<string, string>(), source, command, params };
}

/** The nick part of a `nick!user@host` source (the whole source when it has no `!`). */
export function nickOf(source: string | undefined): string {
  if (!source) return '';
  const bang = source.indexOf('!');
  return bang < 0 ? source : source.slice(0, bang);
}
