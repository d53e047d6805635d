// The default enrichment, ported byte for byte from the Rust enricher
// (plugins/enricher-core): same outputs, same error kinds and fields, checked by the
// shared golden file tests/fixtures/enricher-golden.jsonl.
//
// Output: the input's bytes with `full_name`, `email_domain`, `age` and `age_group`
// appended; if the input already has one of them, the object is rewritten compactly with
// those fields replaced in place (untouched values keep their original text).

import { EventError } from '@weir/sdk';

/** The fields `enrich` adds, in output order. */
export const DERIVED_FIELDS = ['full_name', 'email_domain', 'age', 'age_group'];

const MS_PER_DAY = 86_400_000;
// `char::is_whitespace` in Rust: the Unicode White_Space property. JavaScript's own trim()
// also strips U+FEFF and misses U+0085, so it would disagree with the Rust enricher.
const WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const TRIM = new RegExp(`^[${WS}]+|[${WS}]+$`, 'g');
const TYPE_NAMES = { string: 'a string', number: 'a number', boolean: 'a boolean' };

/** Trims like Rust's `str::trim`. */
export function trim(text) {
  const n = text.length;
  if (n === 0) return text;
  const a = text.charCodeAt(0);
  const z = text.charCodeAt(n - 1);
  if (a > 0x20 && a < 0x7f && z > 0x20 && z < 0x7f) return text;
  return text.replace(TRIM, '');
}

function typeName(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return TYPE_NAMES[typeof value] ?? 'an object';
}

function stringField(object, name) {
  const value = object[name];
  if (typeof value === 'string') {
    // serde_json refuses a lone surrogate escape in a string it decodes.
    if (!value.isWellFormed()) throw EventError.invalidInput('value is not a JSON object: lone surrogate in hex escape');
    return value;
  }
  if (value === undefined) throw EventError.missingField(name);
  throw EventError.invalidField(name, `expected a string, found ${typeName(value)}`);
}

// ---- dates (plugins/enricher-core/src/date.rs) ----

function isLeapYear(year) {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function daysInMonth(year, month) {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

class DateError extends Error {}

/** Parses fixed-width ASCII digits of `text` in [from, to), or -1. */
function digits(text, from, to) {
  if (to > text.length || from >= to) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

const BAD_TIME = 'expected a time like 10:11:12.123Z after the date';

/** Checks `HH:MM[:SS[.fraction]][Z|±HH[:]MM]` starting at `at`. */
function checkTime(text, at) {
  const number = (from, to, max) => {
    const value = digits(text, at + from, at + to);
    if (value < 0) throw new DateError(BAD_TIME);
    if (value > max) throw new DateError('time field out of range');
  };
  number(0, 2, 23);
  if (text[at + 2] !== ':') throw new DateError(BAD_TIME);
  number(3, 5, 59);
  let rest = at + 5;
  if (text[rest] === ':') {
    const seconds = digits(text, rest + 1, rest + 3);
    if (seconds < 0) throw new DateError(BAD_TIME);
    if (seconds > 60) throw new DateError('time field out of range'); // 60: a leap second
    rest += 3;
    if (text[rest] === '.' || text[rest] === ',') {
      let end = rest + 1;
      while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
      if (end === rest + 1) throw new DateError(BAD_TIME);
      rest = end;
    }
  }
  const tail = text.length - rest;
  if (tail === 0 || (tail === 1 && (text[rest] === 'Z' || text[rest] === 'z'))) return;
  if ((tail === 6 || tail === 5) && (text[rest] === '+' || text[rest] === '-')) {
    if (tail === 6 && text[rest + 3] !== ':') throw new DateError(BAD_TIME);
    const m = tail === 6 ? rest + 4 : rest + 3;
    const hours = digits(text, rest + 1, rest + 3);
    const minutes = digits(text, m, m + 2);
    if (hours < 0 || minutes < 0) throw new DateError(BAD_TIME);
    if (hours > 23 || minutes > 59) throw new DateError('time zone offset out of range');
    return;
  }
  throw new DateError(BAD_TIME);
}

// The grammar `parseIso8601` accepts, ranges included except the month's length, for the
// common case in one native call: per character the interpreted parser below costs ten
// times more. Anything that does not match goes through that parser for its error message.
const ISO8601 =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?:[Tt ](?:[01]\d|2[0-3]):[0-5]\d(?::(?:[0-5]\d|60)(?:[.,]\d+)?)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?)?$/;

/** `Date::parse_iso8601`: the calendar date as written, as [year, month, day]. */
export function parseIso8601(text) {
  const m = ISO8601.exec(text);
  if (m !== null) {
    const year = +m[1];
    const month = +m[2];
    const day = +m[3];
    if (day <= 28 || day <= daysInMonth(year, month)) return [year, month, day];
  }
  return parseIso8601Slowly(text);
}

function parseIso8601Slowly(text) {
  if (text.length < 10 || text[4] !== '-' || text[7] !== '-') {
    throw new DateError('expected an ISO-8601 date like 1990-02-28 or 1990-02-28T10:11:12.123Z');
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  if (year < 0 || month < 0 || day < 0) throw new DateError('expected digits');
  if (month < 1 || month > 12) throw new DateError('month out of range 01-12');
  if (day === 0 || day > daysInMonth(year, month)) throw new DateError('day does not exist in that month');
  if (text.length > 10) {
    const sep = text[10];
    if (sep !== 'T' && sep !== 't' && sep !== ' ') throw new DateError('unexpected text after the date');
    checkTime(text, 11);
  }
  return [year, month, day];
}

// Events of a batch mostly share a day: remember the last one.
let lastDay = NaN;
let lastDate;

/** The UTC date of a Unix timestamp in milliseconds (Howard Hinnant's `civil_from_days`). */
export function dateFromUnixMs(ms) {
  const days = Math.floor(ms / MS_PER_DAY);
  if (days === lastDay) return lastDate;
  lastDate = civilFromDays(days);
  lastDay = days;
  return lastDate;
}

function civilFromDays(days) {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

const pad = (n, width) => String(n).padStart(width, '0');
const show = ([y, m, d]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;

/** The `age_group` label. */
export function ageGroup(age) {
  if (age < 18) return '<18';
  if (age < 25) return '18-24';
  if (age < 35) return '25-34';
  if (age < 45) return '35-44';
  if (age < 55) return '45-54';
  if (age < 65) return '55-64';
  return '65+';
}

const AGE_GROUPS = Array.from({ length: 65 }, (_, age) => ageGroup(age));

/**
 * Enriches one event: its value with the derived fields appended (a `Splice`), or the
 * object rewritten when it already has one of them (a string).
 *
 * Written for the component's engine, which interprets it: a call to a JavaScript function
 * costs about half a microsecond there, as much as a native one like `JSON.parse` on a
 * short string, so the common case calls helpers only on the way to an error.
 */
export function enrich(event) {
  const text = event.text();
  let user;
  try {
    user = JSON.parse(text);
  } catch (e) {
    throw EventError.invalidInput(`value is not a JSON object: ${e.message}`);
  }
  if (user === null || typeof user !== 'object' || Array.isArray(user)) {
    throw EventError.invalidInput(`value is not a JSON object: found ${typeName(user)}`);
  }
  // Without a `\u` escape no string of the value can hold a lone surrogate.
  const escaped = text.includes('\\u');
  if (escaped) {
    for (const key of Object.keys(user)) {
      if (!key.isWellFormed()) throw EventError.invalidInput('value is not a JSON object: lone surrogate in hex escape');
    }
  }
  let first = user.first_name;
  let last = user.last_name;
  let email = user.email;
  let dob = user.dob;
  if (escaped || typeof first !== 'string' || typeof last !== 'string' || typeof email !== 'string' || typeof dob !== 'string') {
    first = stringField(user, 'first_name');
    last = stringField(user, 'last_name');
    email = stringField(user, 'email');
    dob = stringField(user, 'dob');
  }

  // trim() only when an end is not printable ASCII: the common case costs four charCodeAt.
  let c = first.charCodeAt(0);
  let z = first.charCodeAt(first.length - 1);
  if (!(c > 0x20 && c < 0x7f && z > 0x20 && z < 0x7f)) first = trim(first);
  c = last.charCodeAt(0);
  z = last.charCodeAt(last.length - 1);
  if (!(c > 0x20 && c < 0x7f && z > 0x20 && z < 0x7f)) last = trim(last);
  const fullName = first === '' ? last : last === '' ? first : `${first} ${last}`;
  const at = email.lastIndexOf('@');
  let domain = at < 0 ? '' : email.slice(at + 1);
  c = domain.charCodeAt(0);
  z = domain.charCodeAt(domain.length - 1);
  if (!(c > 0x20 && c < 0x7f && z > 0x20 && z < 0x7f)) domain = trim(domain);
  if (domain === '') throw EventError.invalidField('email', 'expected an address with a domain after `@`');
  domain = domain.toLowerCase();

  let born;
  try {
    born = parseIso8601(dob);
  } catch (e) {
    if (!(e instanceof DateError)) throw e;
    throw EventError.invalidField('dob', `${e.message} (got ${JSON.stringify(dob)})`);
  }
  const days = Math.floor(event.timestampMs / MS_PER_DAY);
  if (days !== lastDay) {
    lastDate = civilFromDays(days);
    lastDay = days;
  }
  const today = lastDate;
  let age = today[0] - born[0];
  if (today[1] < born[1] || (today[1] === born[1] && today[2] < born[2])) age -= 1;
  if (age < 0) {
    throw EventError.invalidField('dob', `date of birth ${show(born)} is after the event's date ${show(today)}`);
  }
  const group = age < 65 ? AGE_GROUPS[age] : '65+';

  if (user.full_name !== undefined || user.email_domain !== undefined || user.age !== undefined || user.age_group !== undefined) {
    return replaceInObject(text, { fullName, emailDomain: domain, age, ageGroup: group });
  }
  const out = event.splice();
  out.tail =
    (out.comma ? ',"full_name":' : '"full_name":') +
    JSON.stringify(fullName) +
    ',"email_domain":' +
    JSON.stringify(domain) +
    ',"age":' +
    age +
    ',"age_group":"' +
    group +
    '"';
  return out;
}

// ---- the slow path: the input already has a derived field (weir_json::Object) ----

function skipWs(text, i) {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
    else return i;
  }
}

/** End of the JSON string starting at `i` (a `"`), just past its closing quote. */
function stringEnd(text, i) {
  for (i++; ; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i + 1;
  }
}

/** End of the JSON value starting at `i`; `text` is known to be valid JSON. */
function valueEnd(text, i) {
  const c = text.charCodeAt(i);
  if (c === 0x22) return stringEnd(text, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (;;) {
      const d = text.charCodeAt(i);
      if (d === 0x22) {
        i = stringEnd(text, i);
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
  }
  for (;;) {
    const d = text.charCodeAt(i);
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d || Number.isNaN(d)) return i;
    i++;
  }
}

/** The members of a valid JSON object as [decoded key, raw value text], in order. */
export function members(text) {
  const out = [];
  let i = skipWs(text, 0) + 1; // past `{`
  i = skipWs(text, i);
  if (text[i] === '}') return out;
  for (;;) {
    const keyEnd = stringEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd));
    i = skipWs(text, skipWs(text, keyEnd) + 1); // past `:`
    const end = valueEnd(text, i);
    out.push([key, text.slice(i, end)]);
    i = skipWs(text, end);
    if (text[i] === '}') return out;
    i = skipWs(text, i + 1); // past `,`
  }
}

function replaceInObject(text, d) {
  const fields = members(text);
  const set = (key, raw) => {
    let found = false;
    for (const field of fields) {
      if (field[0] === key) {
        field[1] = raw;
        found = true;
      }
    }
    if (!found) fields.push([key, raw]);
  };
  set('full_name', JSON.stringify(d.fullName));
  set('email_domain', JSON.stringify(d.emailDomain));
  set('age', String(d.age));
  set('age_group', JSON.stringify(d.ageGroup));
  return '{' + fields.map(([k, v]) => JSON.stringify(k) + ':' + v).join(',') + '}';
}
