// The shared golden file, run natively through the SDK: the same outputs byte for byte and
// the same error kinds and fields as the Rust enricher.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Config, Event, EventError, instantiate, run } from '@weir/sdk';
import definition from '../src/plugin.js';

const GOLDEN = new URL('../../../tests/fixtures/enricher-golden.jsonl', import.meta.url);
const cases = readFileSync(GOLDEN, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line));
const decoder = new TextDecoder();

test('the golden file has many cases', () => {
  assert.ok(cases.length > 20, `only ${cases.length} cases`);
});

test('every golden case gives the expected bytes or the expected named error', () => {
  const plugin = instantiate(definition, new Config());
  cases.forEach((c, i) => {
    const event = Event.of(c.value, c.timestamp_ms, { key: `k${i}` });
    if (c.output !== undefined) {
      const outputs = run(plugin, event);
      assert.equal(outputs.length, 1, `case ${i}`);
      assert.equal(decoder.decode(outputs[0].value), c.output, `case ${i}`);
      assert.equal(decoder.decode(outputs[0].key), `k${i}`, `case ${i}: key is kept`);
    } else {
      assert.throws(
        () => run(plugin, event),
        (e) => {
          assert.ok(e instanceof EventError, `case ${i}: ${e}`);
          assert.equal(e.kind, c.error.kind, `case ${i}: ${e.message}`);
          assert.equal(e.field ?? null, c.error.field, `case ${i}: ${e.message}`);
          return true;
        },
      );
    }
  });
});

test('refuses any config', () => {
  assert.throws(() => instantiate(definition, new Config([['x', '1']])), /unknown config key `x`/);
});
