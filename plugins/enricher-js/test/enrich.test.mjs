// Edge cases the Rust enricher defines (plugins/enricher-core/src/tests.rs, date.rs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Config, Event, instantiate, run } from '@weir/sdk';
import { dateFromUnixMs, members, parseIso8601, trim } from '../src/enrich.js';
import definition from '../src/plugin.js';

const JUNE_15_2024 = 1_718_452_800_000;
const plugin = instantiate(definition, new Config());
const enrich = (value, ts = JUNE_15_2024) => new TextDecoder().decode(run(plugin, Event.of(value, ts))[0].value);

test('existing derived fields are replaced, not duplicated', () => {
  const input = '{"age":"old","first_name":"A","last_name":"B","email":"a@B.c","dob":"2000-01-01","full_name":null}';
  assert.equal(
    enrich(input),
    '{"age":24,"first_name":"A","last_name":"B","email":"a@B.c","dob":"2000-01-01","full_name":"A B","email_domain":"b.c","age_group":"18-24"}',
  );
});

test('the slow path keeps raw values and re-escapes keys compactly', () => {
  assert.deepEqual(members('{ "a\\u0041" : [1, {"x":"}"}] , "b":-1.5e3,"c":"q\\"" }'), [
    ['aA', '[1, {"x":"}"}]'],
    ['b', '-1.5e3'],
    ['c', '"q\\""'],
  ]);
});

test('an empty object gets no leading comma and trailing whitespace is dropped', () => {
  const out = enrich('{"first_name":"A","last_name":"B","email":"a@b.c","dob":"2000-01-01"} \n');
  assert.ok(out.endsWith('"dob":"2000-01-01","full_name":"A B","email_domain":"b.c","age":24,"age_group":"18-24"}'), out);
});

test('trim follows Rust: U+0085 is whitespace, U+FEFF is not', () => {
  assert.equal(trim('\u0085 Ada\u3000'), 'Ada');
  assert.equal(trim('\ufeffAda'), '\ufeffAda');
});

test('leap-day birthdays are reached on March 1 in common years', () => {
  const value = '{"first_name":"A","last_name":"B","email":"a@b.c","dob":"2000-02-29T00:00:00Z"}';
  assert.match(enrich(value, 1_677_628_799_999), /"age":22,/);
  assert.match(enrich(value, 1_677_628_800_000), /"age":23,/);
});

test('dates parse and refuse like date.rs', () => {
  assert.deepEqual(parseIso8601('1985-12-31T23:59:60.5-0800'), [1985, 12, 31]);
  assert.deepEqual(parseIso8601('1985-12-31 23:59'), [1985, 12, 31]);
  for (const bad of ['1990-02-29', '1900-02-29', '1990-13-01', '1990-04-31', '90-01-01', '1990-01-01T', '1990-01-01T24:00:00Z', '1990-01-01T10:60Z', '1990-01-01T10:11:12.Z', '1990-01-01T10:11:12+25:00', '1990-01-01T10:11:12Q', '+1990-01-01', '1990-01-01T10:11:12+01:0']) {
    assert.throws(() => parseIso8601(bad), undefined, bad);
  }
  assert.deepEqual(dateFromUnixMs(-1), [1969, 12, 31]);
  assert.deepEqual(dateFromUnixMs(951_782_400_000), [2000, 2, 29]);
  assert.deepEqual(dateFromUnixMs(1_767_225_600_000), [2026, 1, 1]);
});
