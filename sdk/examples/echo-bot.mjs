// A 20-line bot with @freeq/sdk: joins a channel, answers `!echo <text>`, comes back if the
// connection drops. Run: node echo-bot.mjs irc://127.0.0.1:6667 '#bots'
import { FreeqClient } from '@freeq/sdk';

const [url = 'irc://127.0.0.1:6667', channel = '#bots'] = process.argv.slice(2);
const bot = new FreeqClient({ url, nick: 'echobot', realname: 'freeq echo bot', reconnect: true });

bot.on('registered', ({ nick }) => console.log(`registered as ${nick}`));
bot.on('join', (ev) => { if (ev.self) console.log(`joined ${ev.channel}`); });
bot.on('message', (m) => {
  if (m.isChannel && m.text.startsWith('!echo ')) bot.privmsg(m.target, m.text.slice(6));
});
bot.on('close', ({ reason }) => console.log(`disconnected${reason ? `: ${reason}` : ''}`));
process.on('SIGINT', () => { void bot.quit('bye').then(() => process.exit(0)); });

await bot.connect();
bot.join(channel);
