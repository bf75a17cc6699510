import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse, type RawClient } from '../harness/raw-client.js';

/** `MODE #c` as lines 324 + 329 */
async function modeLines(c: RawClient, chan: string): Promise<[string, string]> {
  c.send(`MODE ${chan}`);
  return [await c.expect('324'), await c.expect('329')];
}

describe('persistence across restart', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('topic, modes, key, limit and b/e/I lists survive a restart; +k is enforced on rejoin', async () => {
    const a = await srv.client('keeper');
    a.send('JOIN #keep');
    // the guest cloak (keyed hash of the address, #12) is the same after the restart
    const join1 = await a.expect('JOIN');
    assert.match(join1, /^:keeper!keeper@freeq\/guest\/[a-z2-7]{16} JOIN #keep$/);
    await a.expect('366');
    a.send('TOPIC #keep :kept across restarts');
    await a.expect('TOPIC');
    // no +s/+p: an outsider asks for the modes after the restart, and a +s/+p channel answers outsiders 403 (#12)
    a.send('MODE #keep +imklb hunter2 7 spam!*@*', 'MODE #keep +eeI friend!*@* *!*@ok.example keeper!*@*');
    await a.expect((_, m) => m.command === 'MODE' && m.params[1] === '+eeI');

    const [m324, m329] = await modeLines(a, '#keep');
    assert.equal(m324, ':irc.test 324 keeper #keep +imntkl hunter2 7');
    a.send('TOPIC #keep');
    const t332 = await a.expect('332');
    const t333 = await a.expect('333');
    assert.equal(t332, ':irc.test 332 keeper #keep :kept across restarts');
    assert.match(t333, /^:irc\.test 333 keeper #keep keeper!keeper@freeq\/guest\/[a-z2-7]{16} \d+$/);
    const lists: Record<string, string[]> = {};
    for (const [q, end] of [['b', '368'], ['e', '349'], ['I', '347']] as const) {
      a.send(`MODE #keep ${q}`);
      lists[q] = await a.collectUntil(end);
    }
    assert.equal(lists.b!.length, 2);
    assert.equal(lists.e!.length, 3);
    assert.equal(lists.I!.length, 2);
    // +s and +p survive too: a second channel, as a +s/+p channel answers an outsider's MODE with 403
    a.send('JOIN #hidden');
    await a.expect('366');
    a.send('MODE #hidden +spk sekrit');
    assert.equal(parse(await a.expect('MODE')).params.join(' '), '#hidden +spk sekrit');
    assert.equal((await modeLines(a, '#hidden'))[0], ':irc.test 324 keeper #hidden +npstk sekrit');

    await new Promise((r) => setTimeout(r, 1100)); // so a reset creation/topic time would show
    srv = await srv.restart();

    const b = await srv.client('keeper');
    // nobody is on the channel, yet it still exists with its modes and creation time (key hidden from outsiders)
    assert.deepEqual(await modeLines(b, '#keep'), [m324.replace('hunter2', '*'), m329]);
    // +k is enforced (the +I entry lets keeper past +i, not past +k)
    b.send('JOIN #keep');
    assert.equal(await b.expect('475'), ':irc.test 475 keeper #keep :Cannot join channel (+k)');
    b.send('JOIN #keep wrong');
    assert.equal(await b.expect('475'), ':irc.test 475 keeper #keep :Cannot join channel (+k)');
    b.send('JOIN #keep hunter2');
    assert.equal(await b.expect('JOIN'), join1);
    assert.equal(await b.expect('332'), t332);
    assert.equal(await b.expect('333'), t333, 'topic setter and time are the original ones');
    await b.expect('366');
    assert.deepEqual(await modeLines(b, '#keep'), [m324, m329]);
    b.send('TOPIC #keep');
    assert.equal(await b.expect('332'), t332);
    assert.equal(await b.expect('333'), t333);
    for (const [q, end] of [['b', '368'], ['e', '349'], ['I', '347']] as const) {
      b.send(`MODE #keep ${q}`);
      assert.deepEqual(await b.collectUntil(end), lists[q], `list ${q} after restart`);
    }
    // #hidden is still +s/+p: hidden from an outsider, its modes shown once the member is back (with the key)
    b.send('MODE #hidden');
    assert.equal(await b.expect(/ (324|403) /), ':irc.test 403 keeper #hidden :No such channel');
    b.send('JOIN #hidden sekrit');
    await b.expect('366');
    assert.equal((await modeLines(b, '#hidden'))[0], ':irc.test 324 keeper #hidden +npstk sekrit');
    // +i survived too: the right key alone does not get a non-invited user in
    const c = await srv.client('visitor');
    c.send('JOIN #keep hunter2');
    assert.equal(await c.expect('473'), ':irc.test 473 visitor #keep :Cannot join channel (+i)');
  });

  test('+k with the right key lets a matching +I user in after restart; first joiner is re-opped', async () => {
    const a = await srv.client('rekey');
    a.send('JOIN #rekey');
    const join1 = await a.expect('JOIN');
    await a.expect('366');
    a.send('MODE #rekey +ikI door rekey!*@*');
    await a.expect('MODE');
    srv = await srv.restart();
    const b = await srv.client('rekey');
    b.send('JOIN #rekey');
    assert.equal(await b.expect('475'), ':irc.test 475 rekey #rekey :Cannot join channel (+k)');
    b.send('JOIN #rekey door');
    assert.equal(await b.expect('JOIN'), join1);
    // the empty persisted channel is re-founded: its first joiner gets +o
    assert.deepEqual(parse(await b.expect('MODE')).params, ['#rekey', '+o', 'rekey']);
    b.send('MODE #rekey');
    assert.equal(await b.expect('324'), ':irc.test 324 rekey #rekey +intk door');
  });

  test("a channel name with SQL metacharacters round-trips", async () => {
    const name = "#a');DROP";
    const a = await srv.client('sqlish');
    a.send(`JOIN ${name}`, 'JOIN #plain');
    await a.expect((_, m) => m.command === '366' && m.params[1] === '#plain');
    a.send('MODE #plain +m');
    await a.expect('MODE');
    a.send(`TOPIC ${name} :it's "quoted"; --`, `MODE ${name} +mb O'Brien!*@*`);
    await a.expect('MODE');
    srv = await srv.restart();
    const b = await srv.client('sqlish');
    b.send(`MODE ${name}`);
    assert.equal(await b.expect('324'), `:irc.test 324 sqlish ${name} +mnt`);
    b.send(`TOPIC ${name}`);
    assert.equal(await b.expect('332'), `:irc.test 332 sqlish ${name} :it's "quoted"; --`);
    b.send(`MODE ${name} b`);
    assert.match(await b.expect('367'), /^:irc\.test 367 sqlish #a'\);DROP O'Brien!\*@\* sqlish!sqlish@freeq\/guest\/[a-z2-7]{16} \d+$/);
    // the other channels are still there: the name did not break the table
    b.send('MODE #plain');
    assert.equal(await b.expect('324'), ':irc.test 324 sqlish #plain +mnt');
  });

  test('a channel with only default state disappears when emptied, and stays gone after restart', async () => {
    const a = await srv.client('passer');
    a.send('JOIN #transient', 'JOIN #sticky');
    await a.expect((_, m) => m.command === '366' && m.params[1] === '#sticky');
    a.send('MODE #sticky +m');
    await a.expect('MODE');
    a.send('MODE #transient');
    assert.equal(await a.expect('324'), ':irc.test 324 passer #transient +nt');
    a.send('PART #transient', 'PART #sticky');
    await a.expect((_, m) => m.command === 'PART' && m.params[0] === '#sticky');
    a.send('MODE #transient');
    assert.equal(await a.expect('403'), ':irc.test 403 passer #transient :No such channel');
    a.send('MODE #sticky');
    assert.equal(await a.expect('324'), ':irc.test 324 passer #sticky +mnt');

    // a default channel that still has members at shutdown is not resurrected either
    const b = await srv.client('stayer');
    b.send('JOIN #occupied');
    await b.expect('366');
    srv = await srv.restart();
    const c = await srv.client('checker');
    c.send('MODE #transient', 'MODE #occupied');
    assert.equal(await c.expect('403'), ':irc.test 403 checker #transient :No such channel');
    assert.equal(await c.expect('403'), ':irc.test 403 checker #occupied :No such channel');
    c.send('MODE #sticky');
    assert.equal(await c.expect('324'), ':irc.test 324 checker #sticky +mnt');
  });
});
