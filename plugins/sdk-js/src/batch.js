// The packed batch layout of weir:transform@0.3.0, hidden from plugin authors: a batch is
// unpacked into one `Event` per input and the outputs of every event are packed into one
// result buffer. Events, outputs and headers cross the boundary as columns of integers (a
// span is two entries, start and length); the SDK reads and writes those columns directly,
// so an event costs one small object and an output a few typed-array stores.

import { Event, INPUT, NO_KEY, Packed } from './event.js';
import { EventError, ErrorKind } from './errors.js';
import { Splice } from './json.js';

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Growable byte buffer for the result's `data`. */
class Bytes {
  /** Starts with a copy of `input` (the batch's data), so that a Splice of an input value
   * is copied within one buffer, without a view (each costs about a microsecond here). */
  constructor(capacity, input) {
    this.buf = new Uint8Array(capacity + input.length);
    this.buf.set(input);
    this.used = input.length;
    this.input = input;
    this.encoder = new TextEncoder();
  }

  reserve(extra) {
    if (this.used + extra <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.used + extra));
    bigger.set(this.buf.subarray(0, this.used));
    this.buf = bigger;
  }

  /** Appends `bytes`. */
  bytes(bytes) {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** Appends `text` as UTF-8. */
  text(text) {
    // UTF-8 takes at most three bytes per UTF-16 unit.
    if (this.used + text.length * 3 > this.buf.length) this.reserve(text.length * 3);
    this.used += this.encoder.encodeInto(text, this.buf.subarray(this.used)).written;
  }

  /** Appends `value` (bytes, string or Splice); its span is [start, `used`). Calls are
   * written out: each costs about half a microsecond in the component's engine. */
  value(value) {
    if (value instanceof Splice) {
      const len = value.end - value.start;
      const tail = value.tail;
      // UTF-8 takes at most three bytes per UTF-16 unit; one more for the brace.
      if (this.used + len + 3 * tail.length + 1 > this.buf.length) this.reserve(len + 3 * tail.length + 1);
      if (value.source === this.input) {
        // The body is in the copy of the batch's data: copy it within the buffer.
        this.buf.copyWithin(this.used, value.start, value.end);
      } else {
        this.buf.set(value.body, this.used);
      }
      this.used += len;
      if (tail !== '') this.used += this.encoder.encodeInto(tail, this.buf.subarray(this.used)).written;
      this.buf[this.used++] = 0x7d; // }
    } else if (typeof value === 'string') {
      this.text(value);
    } else if (ArrayBuffer.isView(value)) {
      // Not `instanceof Uint8Array`: the component's lifted buffers come from another realm.
      this.bytes(value);
    } else {
      throw new TypeError('an output value must be a Uint8Array, a string or a Splice');
    }
  }
}

/** Columns of `u32` pairs that grow: the result's spans. */
class SpanColumn {
  constructor(capacity) {
    this.a = new Uint32Array(2 * capacity);
    this.n = 0;
  }

  push(start, len) {
    let a = this.a;
    const j = 2 * this.n;
    if (j === a.length) {
      const bigger = new Uint32Array(2 * a.length + 16);
      bigger.set(a);
      this.a = a = bigger;
    }
    a[j] = start;
    a[j + 1] = len;
    this.n++;
  }

  columns() {
    return this.a.subarray(0, 2 * this.n);
  }
}

/** The `batch-result` under construction. Output columns are written in place, one
 * capacity check per output. */
class ResultBuilder {
  constructor(packed, capacity) {
    this.packed = packed;
    this.data = new Bytes(capacity, packed.data);
    this.headerNames = new SpanColumn(0);
    this.headerValues = new SpanColumn(0);
    /** Outputs so far; the columns below hold room for `room`. */
    this.count = 0;
    this.room = 0;
    this.reserve(packed.count + 16);
    this.failures = [];
  }

  reserve(room) {
    const grow = (a, width) => {
      const bigger = new Uint32Array(width * room);
      if (a !== undefined) bigger.set(a);
      return bigger;
    };
    this.inputs = grow(this.inputs, 1);
    this.keys = grow(this.keys, 2);
    this.values = grow(this.values, 2);
    this.headers = grow(this.headers, 2);
    this.room = room;
  }

  /** An output of input `input` that keeps its key and headers (not copied: `INPUT`), its
   * value at [start, start + len) of the data, or the input's own for `INPUT`. */
  sameKey(input, start, len) {
    const n = this.count;
    if (n === this.room) this.reserve(2 * n);
    const o = 2 * n;
    this.keys[o] = INPUT;
    this.keys[o + 1] = 0;
    this.headers[o] = INPUT;
    this.headers[o + 1] = 0;
    this.values[o] = start;
    this.values[o + 1] = len;
    this.inputs[n] = input;
    this.count = n + 1;
  }

  /** An output with its own key and headers (`{ name, value }`), copied. */
  push(input, key, value, headers) {
    const n = this.count;
    if (n === this.room) this.reserve(2 * n);
    const o = 2 * n;
    const data = this.data;
    let start = data.used;
    if (key === undefined) {
      this.keys[o] = NO_KEY;
      this.keys[o + 1] = 0;
    } else {
      data.value(key);
      this.keys[o] = start;
      this.keys[o + 1] = data.used - start;
    }
    this.headers[o] = this.headerNames.n;
    this.headers[o + 1] = headers.length;
    for (const header of headers) {
      start = data.used;
      data.value(header.name);
      this.headerNames.push(start, data.used - start);
      start = data.used;
      data.value(header.value);
      this.headerValues.push(start, data.used - start);
    }
    start = data.used;
    data.value(value);
    this.values[o] = start;
    this.values[o + 1] = data.used - start;
    this.inputs[n] = input;
    this.count = n + 1;
  }

  /** Discards outputs past `outputs` and headers past `headers`: a failed event's. */
  truncate(used, outputs, headers) {
    this.data.used = used;
    this.count = outputs;
    this.headerNames.n = this.headerValues.n = headers;
  }

  fail(input, error) {
    this.failures.push({ input, error });
  }

  finish() {
    const n = this.count;
    return {
      data: this.data.buf.subarray(0, this.data.used),
      headers: { names: this.headerNames.columns(), values: this.headerValues.columns() },
      outputs: {
        inputs: this.inputs.subarray(0, n),
        keys: this.keys.subarray(0, 2 * n),
        values: this.values.subarray(0, 2 * n),
        headers: this.headers.subarray(0, 2 * n),
      },
      failures: this.failures,
    };
  }
}

/**
 * Where `process` writes the outputs of one event. Writing nothing drops the event; each
 * write adds one output, in order. Outputs keep the input's key and headers unless built
 * with `output`.
 */
export class Emit {
  constructor(result) {
    this._result = result;
    this._event = undefined;
    this._input = 0;
    this.count = 0;
  }

  /** Emits `value` (Uint8Array, string or Splice) with the input's key and headers. */
  value(value) {
    const event = this._event;
    const result = this._result;
    if (event._batch === result.packed) {
      const data = result.data;
      const start = data.used;
      data.value(value);
      result.sameKey(this._input, start, data.used - start);
    } else {
      result.push(this._input, event.key, value, event.headers);
    }
    this.count++;
  }

  /** Emits `value` serialised as JSON, with the input's key and headers. */
  json(value) {
    this.value(JSON.stringify(value));
  }

  /** Emits the input event unchanged. Nothing is copied: the output keeps its input. */
  forward() {
    if (this._event._batch === this._result.packed) {
      this._result.sameKey(this._input, INPUT, 0);
      this.count++;
    } else {
      this.value(this._event.value);
    }
  }

  /** Emits an output built by hand: `{ value, key?, headers? }` (headers as `{name, value}`). */
  output({ value, key, headers = [] }) {
    this._result.push(this._input, key, value, headers);
    this.count++;
  }
}

/** What a thrown value becomes: an `EventError` as is, anything else `rejected`. */
function toWitError(thrown) {
  if (thrown instanceof EventError) return thrown.toWit();
  const message = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
  return { kind: ErrorKind.Rejected, field: undefined, message: `plugin threw ${message}` };
}

/**
 * Runs `plugin.process(event, emit)` over a packed batch and packs the outcome: the body of
 * the component's `process` export.
 */
export function processBatch(plugin, batch) {
  const packed = new Packed(batch);
  const count = packed.count;
  const result = new ResultBuilder(packed, count * 128 + 1024);
  const data = result.data;
  const emit = new Emit(result);
  for (let i = 0; i < count; i++) {
    const event = new Event(packed, i);
    emit._event = event;
    emit._input = i;
    const used = data.used;
    const outputs = result.count;
    const headers = result.headerNames.n;
    try {
      plugin.process(event, emit);
    } catch (thrown) {
      // Discard what the event wrote before failing.
      result.truncate(used, outputs, headers);
      result.fail(i, toWitError(thrown));
    }
  }
  return result.finish();
}

/**
 * Runs `plugin` on one event and returns its outputs (`{ key, value, headers }` with bytes)
 * or throws its `EventError`: exactly what the component returns for that event. For
 * native unit tests.
 */
export function run(plugin, event) {
  const result = new ResultBuilder(event._batch, 256);
  const emit = new Emit(result);
  emit._event = event;
  emit._input = event._index;
  plugin.process(event, emit);
  const r = result.finish();
  const slice = (column, i) => r.data.slice(column[2 * i], column[2 * i] + column[2 * i + 1]);
  // What an output kept of its input (`INPUT`) is the event's own, as the host reads it.
  const o = r.outputs;
  return Array.from(o.inputs, (_, i) => {
    const first = o.headers[2 * i];
    return {
      key: o.keys[2 * i] === INPUT ? event.key?.slice()
        : o.keys[2 * i] === NO_KEY ? undefined : slice(o.keys, i),
      value: o.values[2 * i] === INPUT ? event.value.slice() : slice(o.values, i),
      headers: first === INPUT
        ? event.headers.map((h) => ({ name: h.name, value: h.value.slice() }))
        : Array.from({ length: o.headers[2 * i + 1] }, (_, h) => ({
          name: decoder.decode(slice(r.headers.names, first + h)),
          value: slice(r.headers.values, first + h),
        })),
    };
  });
}
