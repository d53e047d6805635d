// The packed layout, natively: a batch is unpacked into events and the outputs packed
// into one buffer with spans, exactly as weir:transform@0.2.0 defines them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Config, Event, EventError, Splice, exportPlugin, instantiate, run } from '../src/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Packs events like the host: one data buffer, spans per event. */
function pack(events) {
  const parts = [];
  let used = 0;
  const put = (bytes) => {
    const b = typeof bytes === 'string' ? enc.encode(bytes) : bytes;
    parts.push(b);
    const span = { start: used, len: b.length };
    used += b.length;
    return span;
  };
  const headers = [];
  const packed = events.map((e, i) => {
    const first = headers.length;
    for (const [name, value] of e.headers ?? []) headers.push({ name: put(name), value: put(value) });
    return {
      key: e.key === undefined ? undefined : put(e.key),
      value: put(e.value),
      headers: { start: first, len: headers.length - first },
      topic: 0,
      partition: 3,
      offset: BigInt(100 + i),
      timestampMs: BigInt(e.ts ?? 0),
    };
  });
  const data = new Uint8Array(used);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return { data, topics: ['users'], headers, events: packed };
}

const text = (result, span) => dec.decode(result.data.subarray(span.start, span.start + span.len));

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
  const result = transform.process(
    pack([
      { value: '{"a":1}', key: 'k0', headers: [['h', 'x']], ts: 7 },
      { value: '{"drop":true}' },
      { value: '{"fail":true}', key: 'k2' },
      { value: '{"twice":true}' },
    ]),
  );
  assert.deepEqual(result.outputs.map((o) => o.input), [0, 3, 3]);
  assert.equal(text(result, result.outputs[0].value), '{"a":1,"topic":"users","ts":7}');
  assert.equal(text(result, result.outputs[0].key), 'k0');
  const h = result.headers[result.outputs[0].headers.start];
  assert.deepEqual([text(result, h.name), text(result, h.value)], ['h', 'x']);
  assert.equal(result.outputs[1].key, undefined);
  assert.equal(text(result, result.outputs[2].value), '{"again":"103"}');
  assert.equal(result.failures.length, 1);
  assert.equal(result.failures[0].input, 2);
  assert.deepEqual(result.failures[0].error, { kind: 'missing-field', field: 'name', message: 'field `name` is missing' });
});

test('a failed event leaves no partial output behind', () => {
  const transform = exportPlugin({
    process(event, out) {
      out.value('first');
      if (event.json().boom) throw new Error('boom');
    },
  });
  const result = transform.process(pack([{ value: '{"boom":true}' }, { value: '{}' }]));
  assert.deepEqual(result.outputs.map((o) => [o.input, text(result, o.value)]), [[1, 'first']]);
  assert.equal(result.failures[0].error.kind, 'rejected');
  assert.match(result.failures[0].error.message, /plugin threw Error: boom/);
});

test('the result buffer grows past its first guess', () => {
  const big = 'x'.repeat(100_000);
  const transform = exportPlugin({ process: (event, out) => out.value(big + 'é') });
  const result = transform.process(pack([{ value: '{}' }, { value: '{}' }]));
  assert.equal(text(result, result.outputs[1].value), big + 'é');
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
