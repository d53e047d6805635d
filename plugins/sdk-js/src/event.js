// One input event as plugin code sees it: views into the batch's packed `data`, decoded
// only when asked for.

import { EventError } from './errors.js';
import { Splice } from './json.js';

// `ignoreBOM` keeps a leading U+FEFF in the text, so JSON.parse refuses it as serde_json does.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * One input event: a Kafka record (or a file line) and where it came from. `value` and
 * `key` are views into the batch and are valid only during the `process` call that
 * received them: copy them (`value.slice()`) to keep them longer.
 */
export class Event {
  constructor(value, timestampMs, key, headers, topic = '', partition = 0, offset = 0n) {
    this._value = value;
    /** Milliseconds since the Unix epoch; use it instead of a clock so replays match. */
    this.timestampMs = timestampMs;
    this._key = key;
    this._headers = headers;
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    // Set for events unpacked from a batch: where value and key sit in the batch's data.
    // Views are made only when the plugin asks (a view costs an object and GC work in the
    // component's engine), and outputs that keep the input's key or value reuse the spans.
    this._data = undefined;
    this._valueSpan = undefined;
    this._keySpan = undefined;
  }

  /** @type {Uint8Array} The value's bytes. */
  get value() {
    if (this._value === undefined) {
      const s = this._valueSpan;
      this._value = this._data.subarray(s.start, s.start + s.len);
    }
    return this._value;
  }

  /** @type {Uint8Array | undefined} The key's bytes, if the record has a key. */
  get key() {
    if (this._key === undefined && this._keySpan !== undefined) {
      const s = this._keySpan;
      this._key = this._data.subarray(s.start, s.start + s.len);
    }
    return this._key;
  }

  /** An event for a unit test: `value` (string or bytes) and a timestamp. */
  static of(value, timestampMs = 0, { key, headers = [], topic = '', partition = 0, offset = 0n } = {}) {
    const bytes = typeof value === 'string' ? encoder.encode(value) : value;
    const keyBytes = typeof key === 'string' ? encoder.encode(key) : key;
    return new Event(bytes, timestampMs, keyBytes, headers, topic, partition, offset);
  }

  /** Headers as `{ name: string, value: Uint8Array }`, in record order. */
  get headers() {
    if (typeof this._headers === 'function') this._headers = this._headers();
    return this._headers;
  }

  /** The value as UTF-8 text; an invalid-input error if it is not UTF-8. */
  text() {
    try {
      return decoder.decode(this.value);
    } catch (e) {
      throw EventError.invalidInput(`value is not UTF-8: ${e.message}`);
    }
  }

  /** The value parsed as JSON; an invalid-input error if it does not parse. */
  json() {
    const text = this.text();
    try {
      return JSON.parse(text);
    } catch (e) {
      throw EventError.invalidInput(`value is not valid JSON: ${e.message}`);
    }
  }

  /** Starts a copy of the value to which fields are appended (see `Splice`). */
  splice() {
    let splice;
    try {
      splice = new Splice(this.value);
    } catch (e) {
      throw EventError.invalidInput(e.message);
    }
    if (this._valueSpan !== undefined) splice.from(this._data, this._valueSpan.start);
    return splice;
  }
}
