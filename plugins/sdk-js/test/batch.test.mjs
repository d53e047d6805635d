// The packed layout, natively: a batch is unpacked into events and the outputs packed
// into one buffer with span columns, exactly as weir:transform@0.3.0 defines them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Config, Event, EventError, Splice, exportPlugin, instantiate, run } from '../src/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

const NO_KEY = 0xffffffff;
const INPUT = 0xfffffffe;

/** Packs events like the host: one data buffer, columns of spans and positions. */
function pack(events) {
  const parts = [];
  let used = 0;
  const put = (bytes) => {
    const b = typeof bytes === 'string' ? enc.encode(bytes) : bytes;
    parts.push(b);
    const span = [used, b.length];
    used += b.length;
    return span;
  };
  const names = [];
  const values = [];
  const columns = { keys: [], values: [], headers: [], topics: [], partitions: [], offsets: [], timestampsMs: [] };
  events.forEach((e, i) => {
    const first = names.length / 2;
    for (const [name, value] of e.headers ?? []) {
      names.push(...put(name));
      values.push(...put(value));
    }
    columns.keys.push(...(e.key === undefined ? [NO_KEY, 0] : put(e.key)));
    columns.values.push(...put(e.value));
    columns.headers.push(first, names.length / 2 - first);
    columns.topics.push(0);
    columns.partitions.push(3);
    columns.offsets.push(BigInt(100 + i));
    columns.timestampsMs.push(BigInt(e.ts ?? 0));
  });
  const data = new Uint8Array(used);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  // As the component's bindings lift them: typed arrays of the WIT integer types.
  const events32 = {
    keys: Uint32Array.from(columns.keys),
    values: Uint32Array.from(columns.values),
    headers: Uint32Array.from(columns.headers),
    topics: Uint32Array.from(columns.topics),
    partitions: Int32Array.from(columns.partitions),
    offsets: BigInt64Array.from(columns.offsets),
    timestampsMs: BigInt64Array.from(columns.timestampsMs),
  };
  return {
    data,
    topics: ['users'],
    headers: { names: Uint32Array.from(names), values: Uint32Array.from(values) },
    events: events32,
  };
}

/** A result's outputs as one object each, key, value and headers (`[name, value]`)
 * decoded; what an output kept of its input (`INPUT`) is read from `batch`, as the host does. */
function unpack(result, batch) {
  const o = result.outputs;
  for (const column of [o.inputs, o.keys, o.values, o.headers, result.headers.names, result.headers.values]) {
    assert.ok(column instanceof Uint32Array, 'columns are lowered as typed arrays');
  }
  const text = (data, column, i) => dec.decode(data.subarray(column[2 * i], column[2 * i] + column[2 * i + 1]));
  // The record (result or batch), span column and index a span of output `i` is in.
  const where = (column, i, input, inputs) => (column[2 * i] === INPUT ? [batch, inputs, input] : [result, column, i]);
  return {
    data: result.data,
    outputs: Array.from(o.inputs, (input, i) => {
      const [keyFrom, keys, k] = where(o.keys, i, input, batch.events.keys);
      const [valueFrom, values, v] = where(o.values, i, input, batch.events.values);
      const [from, headers, h] = where(o.headers, i, input, batch.events.headers);
      const first = headers[2 * h];
      return {
        input,
        key: keys[2 * k] === NO_KEY ? undefined : text(keyFrom.data, keys, k),
        value: text(valueFrom.data, values, v),
        headers: Array.from({ length: headers[2 * h + 1] }, (_, n) => [
          text(from.data, from.headers.names, first + n),
          text(from.data, from.headers.values, first + n),
        ]),
      };
    }),
    failures: result.failures,
  };
}

test('outputs are packed in input order with the input key and headers', () => {
  const transform = exportPlugin({
    process(event, out) {
      const v = event.json();
      if (v.drop) return;
      if (v.fail) throw EventError.missingField('name');
      out.value(event.splice().push('topic', event.topic).push('ts', event.timestampMs));
      if (v.twice) out.json({ again: event.offset.toString() });
    },
  });
  transform.init([]);
  const batch = pack([
    { value: '{"a":1}', key: 'k0', headers: [['h', 'x']], ts: 7 },
    { value: '{"drop":true}' },
    { value: '{"fail":true}', key: 'k2' },
    { value: '{"twice":true}' },
  ]);
  const result = unpack(transform.process(batch), batch);
  assert.deepEqual(result.outputs.map((o) => o.input), [0, 3, 3]);
  assert.equal(result.outputs[0].value, '{"a":1,"topic":"users","ts":7}');
  assert.equal(result.outputs[0].key, 'k0');
  assert.deepEqual(result.outputs[0].headers, [['h', 'x']]);
  assert.equal(result.outputs[1].key, undefined);
  assert.equal(result.outputs[2].value, '{"again":"103"}');
  assert.equal(result.failures.length, 1);
  assert.equal(result.failures[0].input, 2);
  assert.deepEqual(result.failures[0].error, { kind: 'missing-field', field: 'name', message: 'field `name` is missing' });
});

test('batch events read key, headers and position from the batch', () => {
  const seen = [];
  const transform = exportPlugin({
    process(event, out) {
      seen.push([dec.decode(event.value), event.key && dec.decode(event.key), event.headers.map((h) => [h.name, dec.decode(h.value)]),
        event.topic, event.partition, event.offset, event.timestampMs]);
      out.forward();
    },
  });
  const batch = pack([
    { value: '{}', key: 'k', headers: [['h', 'v'], ['i', 'w']], ts: -1 },
    { value: '[]', ts: 2 ** 40 },
  ]);
  const raw = transform.process(batch);
  const result = unpack(raw, batch);
  assert.deepEqual(seen, [
    ['{}', 'k', [['h', 'v'], ['i', 'w']], 'users', 3, 100n, -1],
    ['[]', undefined, [], 'users', 3, 101n, 2 ** 40],
  ]);
  assert.deepEqual(result.outputs.map((o) => o.value), ['{}', '[]']);
  assert.deepEqual(result.outputs.map((o) => o.key), ['k', undefined]);
  assert.deepEqual(result.outputs[0].headers, [['h', 'v'], ['i', 'w']]);
  // Forwarding copies nothing: every output keeps its input's key, value and headers.
  assert.equal(raw.headers.names.length, 0);
  assert.deepEqual(Array.from(raw.outputs.values), [INPUT, 0, INPUT, 0]);
});

test('a failed event leaves no partial output behind', () => {
  const transform = exportPlugin({
    process(event, out) {
      out.value('first');
      if (event.json().boom) throw new Error('boom');
    },
  });
  const batch = pack([{ value: '{"boom":true}' }, { value: '{}' }]);
  const result = unpack(transform.process(batch), batch);
  assert.deepEqual(result.outputs.map((o) => [o.input, o.value]), [[1, 'first']]);
  assert.equal(result.failures[0].error.kind, 'rejected');
  assert.match(result.failures[0].error.message, /plugin threw Error: boom/);
});

test('the result buffer grows past its first guess', () => {
  const big = 'x'.repeat(100_000);
  const transform = exportPlugin({ process: (event, out) => out.value(big + 'é') });
  const batch = pack([{ value: '{}' }, { value: '{}' }]);
  const result = unpack(transform.process(batch), batch);
  assert.equal(result.outputs[1].value, big + 'é');
});

test('init errors reach the host as the err string', () => {
  const transform = exportPlugin({ init: (config) => config.only(['a']) || { process() {} } });
  assert.throws(() => transform.init([['b', '1']]), (e) => e === 'unknown config key `b`; this plugin accepts: a');
});

test('splice writes after the last field, and an empty object gets no comma', () => {
  assert.equal(dec.decode(new Splice(enc.encode('{ "a" : 1 } \n')).push('c', 'x"y').push('d', -4).toBytes()), '{ "a" : 1 ,"c":"x\\"y","d":-4}');
  assert.equal(dec.decode(new Splice(enc.encode('{ }')).push('n', 1).toBytes()), '{ "n":1}');
  assert.throws(() => new Splice(enc.encode('[1]')));
});

test('event helpers name the problem', () => {
  assert.throws(() => Event.of(new Uint8Array([0xff])).text(), (e) => e.kind === 'invalid-input');
  assert.throws(() => Event.of('{"a":').json(), (e) => e.kind === 'invalid-input');
  assert.throws(() => Event.of('\ufeff{}').json(), (e) => e.kind === 'invalid-input');
  assert.deepEqual(EventError.invalidField('age', 'expected a number'), Object.assign(new EventError('invalid-field', 'age', 'field `age`: expected a number')));
});

test('run and Config work for native tests', () => {
  const plugin = instantiate(
    { init: (config) => ({ tag: config.get('tag') ?? 'none', process(event, out) { out.value(event.splice().push('tag', this.tag)); } }) },
    new Config({ tag: 't' }),
  );
  const [output] = run(plugin, Event.of('{"id":1}', 0, { key: 'k', headers: [{ name: 'h', value: enc.encode('v') }] }));
  assert.equal(dec.decode(output.value), '{"id":1,"tag":"t"}');
  assert.equal(dec.decode(output.key), 'k');
  assert.equal(output.headers[0].name, 'h');
  assert.equal(new Config([['a', '1'], ['a', '2']]).get('a'), '2');
  assert.throws(() => new Config([]).require('x'), /missing config key `x`/);
});
