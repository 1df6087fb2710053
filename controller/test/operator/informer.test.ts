import { PEERING_SESSION } from '../../src/operator/resources/api-group.js';
import type { Resource } from '../../src/operator/resources/object.js';
import { ManualClock } from '../../src/time/clock.js';
import { Informer, type InformerEvent } from '../../src/operator/runtime/informer.js';
import { OperatorMetrics } from '../../src/operator/runtime/metrics.js';
import { ResourceGoneError } from '../../src/operator/backing/errors.js';
import type { ResourceCollection, WatchHandlers } from '../../src/operator/backing/resource-collection.js';

type Thing = Resource<{ n: number }, unknown>;

function thing(name: string, rv: string): Thing {
  return {
    apiVersion: 'peering.autopeer.dev/v1alpha1',
    kind: 'PeeringSession',
    metadata: { namespace: 'ns', name, resourceVersion: rv },
    spec: { n: 1 },
  };
}

/** A list/watch source whose watches the test drives by hand. */
class ScriptedSource implements Partial<ResourceCollection<Thing>> {
  readonly names = PEERING_SESSION;
  items: Thing[] = [];
  version = '1';
  lists = 0;
  failLists = 0;
  watches: { from: string; handlers: WatchHandlers<Thing>; stopped: boolean }[] = [];

  async list() {
    this.lists++;
    if (this.failLists > 0) {
      this.failLists--;
      throw new Error('connection refused');
    }
    return { items: [...this.items], resourceVersion: this.version };
  }

  watch(from: string, handlers: WatchHandlers<Thing>) {
    const entry = { from, handlers, stopped: false };
    this.watches.push(entry);
    return { stop: () => (entry.stopped = true) };
  }

  get live() {
    const last = this.watches[this.watches.length - 1];
    if (!last || last.stopped) throw new Error('no live watch');
    return last.handlers;
  }
}

function start(source: ScriptedSource, clock: ManualClock, metrics = new OperatorMetrics()) {
  const informer = new Informer(
    source as unknown as ResourceCollection<Thing>,
    {},
    {
      clock,
      metrics,
      silenceMs: 60_000,
      relistMs: 600_000,
      retryMs: 1_000,
      maxRetryMs: 8_000,
    },
  );
  const events: [InformerEvent, string][] = [];
  informer.on((event, object) => events.push([event, object.metadata.name]));
  informer.start();
  return { informer, events, metrics };
}

describe('Informer', () => {
  it('lists, then watches from the list version, and keeps the cache current', async () => {
    const clock = new ManualClock();
    const source = new ScriptedSource();
    source.items = [thing('a', '5')];
    source.version = '7';
    const { informer, events } = start(source, clock);
    await informer.waitForSync();
    await clock.advance(0);
    expect(source.watches[0]?.from).toBe('7');
    source.live.event('ADDED', thing('b', '8'));
    source.live.event('MODIFIED', thing('a', '9'));
    source.live.event('MODIFIED', thing('a', '9')); // a repeat is no change
    source.live.event('DELETED', thing('b', '10'));
    expect(events).toEqual([
      ['add', 'a'],
      ['add', 'b'],
      ['update', 'a'],
      ['delete', 'b'],
    ]);
    expect(informer.keys()).toEqual(['ns/a']);
    informer.stop();
  });

  it('continues from the last version when the server closes the watch normally', async () => {
    const clock = new ManualClock();
    const source = new ScriptedSource();
    const { informer } = start(source, clock);
    await clock.advance(0);
    source.live.bookmark('42');
    source.live.closed();
    expect(source.watches.map((w) => w.from)).toEqual(['1', '42']);
    expect(source.lists).toBe(1);
    informer.stop();
  });

  it('relists at once on 410 Gone, turning what changed meanwhile into events', async () => {
    const clock = new ManualClock();
    const source = new ScriptedSource();
    source.items = [thing('a', '1'), thing('b', '1')];
    const { informer, events, metrics } = start(source, clock);
    await clock.advance(0);
    source.items = [thing('a', '3'), thing('c', '3')];
    source.version = '3';
    source.live.error(new ResourceGoneError('too old resource version'));
    await clock.advance(0);
    expect(source.lists).toBe(2);
    expect(events.slice(2)).toEqual([
      ['update', 'a'],
      ['add', 'c'],
      ['delete', 'b'],
    ]);
    expect((await metrics.informerRestarts.get()).values).toEqual([
      expect.objectContaining({ labels: { resource: 'peeringsessions', reason: 'gone' }, value: 1 }),
    ]);
    informer.stop();
  });

  it('restarts after any other error with growing waits, never giving up', async () => {
    const clock = new ManualClock();
    const source = new ScriptedSource();
    const { informer } = start(source, clock);
    await clock.advance(0);
    source.failLists = 3;
    source.live.error(new Error('stream reset'));
    // Waits 1 s, then relists fail three times: 2 s, 4 s, 8 s.
    await clock.advance(999);
    expect(source.lists).toBe(1);
    await clock.advance(1);
    expect(source.lists).toBe(2);
    await clock.advance(2_000 + 4_000 + 8_000);
    expect(source.lists).toBe(5);
    expect(source.watches.filter((w) => !w.stopped)).toHaveLength(1);
    expect(informer.hasSynced()).toBe(true);
    informer.stop();
  });

  it('restarts a watch that went silent (no event, no bookmark) and reports unhealthy meanwhile', async () => {
    const clock = new ManualClock();
    const source = new ScriptedSource();
    const { informer, metrics } = start(source, clock);
    await clock.advance(0);
    await clock.advance(50_000);
    source.live.bookmark('2'); // life
    await clock.advance(59_000);
    expect(source.lists).toBe(1);
    await clock.advance(20_000);
    expect(source.lists).toBe(2);
    expect((await metrics.informerRestarts.get()).values[0]?.labels.reason).toBe('silence');
    expect(informer.healthy()).toBe(true);
    informer.stop();
  });

  it('relists periodically even when the watch looks fine', async () => {
    const clock = new ManualClock();
    const source = new ScriptedSource();
    const { informer } = start(source, clock);
    for (let i = 0; i < 30; i++) {
      await clock.advance(20_000);
      source.live.bookmark(String(i + 2));
    }
    expect(source.lists).toBe(2);
    informer.stop();
  });
});
