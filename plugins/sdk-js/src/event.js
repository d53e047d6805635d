// One input event as plugin code sees it: an index into a packed batch, decoded only when
// asked for.
//
// Why so lazy: inside the component the engine interprets this code (no JIT), and every
// object, BigInt, view or property written per event costs about as much as a plugin's own
// work. An event is therefore two fields; each accessor reads the batch's columns when
// called. `Event.of` packs a one-event batch, so tests and components share one layout.

import { EventError } from './errors.js';
import { Splice } from './json.js';

// `ignoreBOM` keeps a leading U+FEFF in the text, so JSON.parse refuses it as serde_json does.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const headerNames = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();
/** The start of the key span of an event or output without a key. */
export const NO_KEY = 0xffffffff;
/** The start of an output's key, value or headers span that keeps its input event's own
 * (`wit/types.wit`): nothing is copied, by the plugin or by the host. */
export const INPUT = 0xfffffffe;
const NO_HEADERS = Object.freeze([]);

/**
 * The columns of a `batch` record (weir:transform@0.3.0), flattened once per batch so that
 * an event's accessors reach them in one step.
 */
export class Packed {
  constructor(batch) {
    const events = batch.events;
    this.data = batch.data;
    this.topicNames = batch.topics;
    this.headerNames = batch.headers.names;
    this.headerValues = batch.headers.values;
    this.keys = events.keys;
    this.values = events.values;
    this.headers = events.headers;
    this.topics = events.topics;
    this.partitions = events.partitions;
    this.offsets = events.offsets;
    this.timestampsMs = events.timestampsMs;
    // The timestamps as 32-bit halves (little-endian, as wasm memory is): reading an entry
    // of a BigInt64Array allocates a BigInt, which costs more here than the arithmetic.
    const t = events.timestampsMs;
    this.timestampHalves = new Int32Array(t.buffer, t.byteOffset, 2 * t.length);
  }

  /** Number of events. */
  get count() {
    return this.timestampsMs.length;
  }
}

/** Bytes of `value` (string or bytes). */
const bytesOf = (value) => (typeof value === 'string' ? encoder.encode(value) : value);

/**
 * One input event: a Kafka record (or a file line) and where it came from. `value` and
 * `key` are views into the batch and are valid only during the `process` call that
 * received them: copy them (`value.slice()`) to keep them longer.
 */
export class Event {
  /** Event `index` of `packed` (the SDK makes these; tests use `Event.of`). */
  constructor(packed, index) {
    this._batch = packed;
    this._index = index;
    this._value = undefined;
    // Computed here: most plugins read it, and a getter would cost a call each time.
    const halves = packed.timestampHalves;
    // Exact up to 2^53 ms (year 287,396); `>>> 0` reads the low half as unsigned.
    /** Milliseconds since the Unix epoch; use it instead of a clock so replays match. */
    this.timestampMs = halves[2 * index + 1] * 4_294_967_296 + (halves[2 * index] >>> 0);
  }

  /** An event for a unit test: `value` (string or bytes) and a timestamp. */
  static of(value, timestampMs = 0, { key, headers = [], topic = '', partition = 0, offset = 0n } = {}) {
    const parts = [];
    let used = 0;
    const put = (bytes) => {
      parts.push(bytes);
      used += bytes.length;
      return [used - bytes.length, bytes.length];
    };
    const keySpan = key === undefined ? [NO_KEY, 0] : put(bytesOf(key));
    const valueSpan = put(bytesOf(value));
    const names = [];
    const values = [];
    for (const h of headers) {
      names.push(...put(bytesOf(h.name)));
      values.push(...put(bytesOf(h.value)));
    }
    const data = new Uint8Array(used);
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
    const packed = new Packed({
      data,
      topics: [topic],
      headers: { names: Uint32Array.from(names), values: Uint32Array.from(values) },
      events: {
        keys: Uint32Array.from(keySpan),
        values: Uint32Array.from(valueSpan),
        headers: Uint32Array.of(0, headers.length),
        topics: Uint32Array.of(0),
        partitions: Int32Array.of(partition),
        offsets: BigInt64Array.of(BigInt(offset)),
        timestampsMs: BigInt64Array.of(BigInt(Math.trunc(timestampMs))),
      },
    });
    return new Event(packed, 0);
  }

  /** @type {Uint8Array} The value's bytes. */
  get value() {
    let value = this._value;
    if (value === undefined) {
      const b = this._batch;
      const j = 2 * this._index;
      const start = b.values[j];
      value = this._value = b.data.subarray(start, start + b.values[j + 1]);
    }
    return value;
  }

  /** @type {Uint8Array | undefined} The key's bytes, if the record has a key. */
  get key() {
    const b = this._batch;
    const j = 2 * this._index;
    const start = b.keys[j];
    return start === NO_KEY ? undefined : b.data.subarray(start, start + b.keys[j + 1]);
  }

  /** Headers as `{ name: string, value: Uint8Array }`, in record order. */
  get headers() {
    const b = this._batch;
    const j = 2 * this._index;
    const first = b.headers[j];
    const count = b.headers[j + 1];
    if (count === 0) return NO_HEADERS;
    const out = new Array(count);
    for (let h = 0; h < count; h++) {
      const n = 2 * (first + h);
      const name = b.headerNames[n];
      const value = b.headerValues[n];
      out[h] = {
        name: headerNames.decode(b.data.subarray(name, name + b.headerNames[n + 1])),
        value: b.data.subarray(value, value + b.headerValues[n + 1]),
      };
    }
    return out;
  }

  /** The source topic (empty for file sources). */
  get topic() {
    return this._batch.topicNames[this._batch.topics[this._index]] ?? '';
  }

  /** The source partition (0 for file sources). */
  get partition() {
    return this._batch.partitions[this._index];
  }

  /** The offset within the partition (the line number for file sources). */
  get offset() {
    return this._batch.offsets[this._index];
  }

  /** The value as UTF-8 text; an invalid-input error if it is not UTF-8. */
  text() {
    let value = this._value;
    if (value === undefined) {
      // What the `value` getter does, written out: a getter call costs more than this.
      const b = this._batch;
      const start = b.values[2 * this._index];
      value = this._value = b.data.subarray(start, start + b.values[2 * this._index + 1]);
    }
    try {
      return decoder.decode(value);
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
    const b = this._batch;
    const j = 2 * this._index;
    const start = b.values[j];
    try {
      return new Splice(b.data, start, start + b.values[j + 1]);
    } catch (e) {
      throw EventError.invalidInput(e.message);
    }
  }
}
