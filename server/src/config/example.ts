import { stringify as stringifyToml } from 'smol-toml';
import { OPTIONS, envName, type OptionSpec } from './options.js';

/**
 * #16: the commented example configuration (freeq.example.toml in the repository root, and
 * `freeq-server config example`), generated from the option table alone: every group, every
 * option with its help text, type, limits, environment variable and default. Every line is a
 * comment, so the file as it is loads as the defaults; each `#name = value` line of an option with
 * a default, uncommented, sets that very default (server/test/unit/config-example.test.ts checks
 * both and that the committed file is what this function returns).
 */

const WIDTH = 100;

/** `text` as `# `-comment lines of at most WIDTH characters (words longer than a line stay whole) */
export function commentLines(text: string): string[] {
  const out: string[] = [];
  let line = '#';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.length > 1 && line.length + 1 + word.length > WIDTH) {
      out.push(line);
      line = '#';
    }
    line += ' ' + word;
  }
  if (line.length > 1) out.push(line);
  return out;
}

function typeText(o: OptionSpec): string {
  const range = (unit = ''): string => {
    if (o.min !== undefined && o.max !== undefined) return ` ${o.min}${unit} to ${o.max}${unit}`;
    if (o.min !== undefined) return ` at least ${o.min}${unit}`;
    if (o.max !== undefined) return ` at most ${o.max}${unit}`;
    return '';
  };
  switch (o.type) {
    case 'int': return `integer${range()}`;
    case 'bool': return 'true or false';
    case 'duration': return 'duration';
    case 'bytes': return `size${range(' bytes')}`;
    case 'addr': return 'host:port';
    case 'list': return 'list';
    case 'plugins': return 'plugin specs (or [[plugin]] tables at the end of the file; docs/plugins.md)';
    case 'string': return 'text';
  }
}

/** what an option without a default shows after `=`: a placeholder of its type */
function placeholder(o: OptionSpec): string {
  switch (o.type) {
    case 'addr': return '"host:port"';
    case 'list': case 'plugins': return '[]';
    case 'bool': return 'true';
    case 'int': return String(o.min ?? 0);
    case 'duration': return '"0s"';
    default: return '"..."';
  }
}

/** `#name = value` (the default, spelled as in the table) or `#name = <placeholder>` */
function valueLine(o: OptionSpec): string {
  if (o.default === undefined) return `#${o.name} = ${placeholder(o)}`;
  return '#' + stringifyToml({ [o.name]: o.default }).trim();
}

function optionBlock(o: OptionSpec): string[] {
  const env = [envName(o), ...(o.envAliases ?? [])].join(' or ');
  const facts = [typeText(o), o.default === undefined ? 'unset by default' : '', o.secret ? 'a secret: keep this file private (chmod 600)' : '', `env ${env}`]
    .filter(Boolean).join('; ');
  return [...commentLines(o.help), ...commentLines(`(${facts})`), valueLine(o)];
}

const HEADER = `# freeq-server example configuration (TOML).
#
# Generated from the option table (server/src/config/options.ts) by \`npm run example-config\`;
# a test fails when it is out of date, so do not edit it by hand. \`freeq-server config example\`
# prints the same file.
#
# Every option is here, commented out, with its default: copy the file, uncomment what you change.
# Use it with \`freeq-server --config /etc/freeq/freeq.toml\` (or FREEQ_CONFIG=...). The same names
# work as flags (--nick-len 30) and environment variables (FREEQ_NICK_LEN=30); precedence:
# defaults < this file < environment < command line. \`freeq-server config print\` shows the result.
#
# Durations: 250ms, 90s, 10m, 1h or 1d (a bare number is seconds). Sizes: bytes, or k, M, G
# (powers of 1024). Addresses: host:port, [::]:port or :port. Lists: TOML arrays.
# Keep the file private (chmod 600) once it holds a password or an API key.
`;

const FOOTER = `# ==== Tables (after every option above) ====

# Named IRC operators (OPER <name> <password>), one [[oper]] table each: name (no spaces,
# unique), password (at least 8 characters), class admin (default) or moderator, and an
# optional vhost shown after OPER. docs/operator-guide.md "A worked TOML file".
#[[oper]]
#name = "alice"
#password = "a long random passphrase"
#class = "admin"
#vhost = "staff/alice"

# Plugins as tables instead of the plugin option: [[plugin]] with name and a [plugin.options]
# table (docs/plugins.md). Federation peers: [s2s.peers.<peer id>] with trust = "full", "relay"
# or "readonly" and an optional name (docs/federation.md).
`;

/** The example file's text (LF line endings, one trailing newline). */
export function exampleConfig(options: readonly OptionSpec[] = OPTIONS): string {
  const groups: string[] = [];
  for (const o of options) if (!groups.includes(o.group)) groups.push(o.group);
  const parts = [HEADER];
  for (const g of groups) {
    const blocks = options.filter((o) => o.group === g).map((o) => optionBlock(o).join('\n'));
    parts.push(`# ==== ${g} ====\n\n${blocks.join('\n\n')}\n`);
  }
  parts.push(FOOTER);
  return parts.join('\n');
}
