import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Config, Event, instantiate, run } from '@weir/sdk';
import Tagger from '../src/plugin.js';

test('adds the field and keeps the rest', () => {
  const plugin = instantiate(Tagger, new Config());
  const outputs = run(plugin, Event.of('{"id":1}'));
  assert.equal(outputs.length, 1);
  assert.equal(new TextDecoder().decode(outputs[0].value), '{"id":1,"processed_by":"{{name}}"}');
});

test('refuses values that are not JSON objects', () => {
  const plugin = instantiate(Tagger, new Config());
  assert.throws(() => run(plugin, Event.of('not json')), (e) => e.kind === 'invalid-input');
});
