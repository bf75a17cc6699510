// #12 finding 8: GET /api/v1/channels is paginated: ?limit=&after=<folded name> → {channels, next}.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer } from '../harness/server.js';

interface Listing { channels: { name: string; topic: string | null; members: number }[]; next: string | null }

describe('#12: /api/v1/channels pages', () => {
  test('250 channels: pages of 100 by default (at most 500) in folded-name order, next continues, none lost or repeated', async () => {
    const srv = await bootServer({ 'max-channels': 300, 'channel-creation-per-connection': 1000 });
    try {
      const c = await srv.client('lister');
      const names = Array.from({ length: 250 }, (_, i) => `#Chan${String(i).padStart(3, '0')}`);
      for (let i = 0; i < names.length; i += 10) c.send(`JOIN ${names.slice(i, i + 10).join(',')}`);
      c.send('JOIN #hidden', 'MODE #hidden +s');
      await c.sync();
      const get = async (q: string): Promise<{ status: number; body: Listing }> => {
        const r = await fetch(`http://127.0.0.1:${srv.webPort}/api/v1/channels${q}`);
        return { status: r.status, body: await r.json() as Listing };
      };

      const seen: string[] = [];
      let q = '';
      const sizes: number[] = [];
      for (;;) {
        const { status, body } = await get(q);
        assert.equal(status, 200);
        sizes.push(body.channels.length);
        seen.push(...body.channels.map((ch) => ch.name));
        if (body.next === null) break;
        assert.equal(body.next, body.channels.at(-1)!.name.toLowerCase());
        q = `?after=${encodeURIComponent(body.next)}`;
      }
      assert.deepEqual(sizes, [100, 100, 50]);
      assert.deepEqual(seen, names, 'every public channel once, in order; #hidden never');
      assert.deepEqual((await get('?limit=1')).body, { channels: [{ name: '#Chan000', topic: null, members: 1 }], next: '#chan000' });
      const all = await get('?limit=100000');
      assert.equal(all.body.channels.length, 250, 'a limit above 500 is clamped (250 < 500: all)');
      assert.equal(all.body.next, null);
      assert.deepEqual((await get('?after=%23chan248')).body.channels.map((ch) => ch.name), ['#Chan249']);
      for (const bad of ['?limit=0', '?limit=x', '?limit=-3']) assert.equal((await get(bad)).status, 400, bad);
    } finally {
      await srv.stop();
    }
  });

  test('501 channels: a limit above 500 is clamped to 500, and next leads to the last one', async () => {
    const srv = await bootServer({ 'max-channels': 600, 'channel-creation-per-connection': 1000 });
    try {
      const c = await srv.client('lister');
      const names = Array.from({ length: 501 }, (_, i) => `#big${String(i).padStart(3, '0')}`);
      for (let i = 0; i < names.length; i += 10) c.send(`JOIN ${names.slice(i, i + 10).join(',')}`);
      await c.sync();
      assert.equal(srv.server.context.world.channels.size, 501);
      const get = async (q: string): Promise<Listing> =>
        await (await fetch(`http://127.0.0.1:${srv.webPort}/api/v1/channels${q}`)).json() as Listing;
      for (const q of ['?limit=100000', '?limit=501', '?limit=500']) {
        const page = await get(q);
        assert.deepEqual(page.channels.map((ch) => ch.name), names.slice(0, 500), q);
        assert.equal(page.next, '#big499', q);
      }
      assert.deepEqual(await get('?limit=100000&after=%23big499'), { channels: [{ name: '#big500', topic: null, members: 1 }], next: null });
    } finally {
      await srv.stop();
    }
  });
});
