// The packed batch layout of weir:transform@0.3.0, hidden from plugin authors: a batch is
// unpacked into one `Event` per input and the outputs of every event are packed into one
// result buffer. Costs per event: a few object allocations and no copies of the input.
// Events, outputs and headers cross the boundary as columns of integers (a span is two
// entries, start and length); inside the SDK they are span objects, converted once per
// batch each way.

import { Event } from './event.js';
import { EventError, ErrorKind } from './errors.js';
import { Splice } from './json.js';

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
/** The start of the key span of an event or output without a key. */
const NO_KEY = 0xffffffff;
const NO_HEADERS = Object.freeze([]);

/** Growable byte buffer for the result's `data`. */
class Bytes {
  /** Starts with a copy of `input` (the batch's data), so that outputs can refer to input
   * bytes by their spans or copy them within one buffer, without views. */
  constructor(capacity, input) {
    this.buf = new Uint8Array(capacity + (input ? input.length : 0));
    this.used = 0;
    this.input = input;
    if (input) {
      this.buf.set(input);
      this.used = input.length;
    }
    this.encoder = new TextEncoder();
  }

  reserve(extra) {
    if (this.used + extra <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.used + extra));
    bigger.set(this.buf.subarray(0, this.used));
    this.buf = bigger;
  }

  /** Copies `bytes` and returns their span. */
  bytes(bytes) {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.used);
    const span = { start: this.used, len: bytes.length };
    this.used += bytes.length;
    return span;
  }

  /** Appends `text` as UTF-8 (no span). */
  text(text) {
    // UTF-8 takes at most three bytes per UTF-16 unit.
    if (this.used + text.length * 3 > this.buf.length) this.reserve(text.length * 3);
    const { written } = this.encoder.encodeInto(text, this.buf.subarray(this.used));
    this.used += written;
    return written;
  }

  /** Writes `value` (bytes, string or Splice) and returns its span. */
  value(value) {
    const start = this.used;
    if (typeof value === 'string') {
      this.text(value);
    } else if (value instanceof Splice) {
      const len = value.body.length;
      if (value.source !== undefined && value.source === this.input) {
        // The body is in the copy of the batch's data: copy it within the buffer.
        this.reserve(len);
        this.buf.copyWithin(this.used, value.sourceStart, value.sourceStart + len);
        this.used += len;
      } else {
        this.bytes(value.body);
      }
      this.text(value.tail + '}');
    } else if (ArrayBuffer.isView(value)) {
      // Not `instanceof Uint8Array`: the component's lifted buffers come from another realm.
      return this.bytes(value);
    } else {
      throw new TypeError('an output value must be a Uint8Array, a string or a Splice');
    }
    return { start, len: this.used - start };
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
    if (event._data !== undefined && event._data === this._result.data.input) {
      this._result.pushSameKey(this._input, event, this._result.data.value(value));
    } else {
      this._result.push(this._input, event.key, value, event.headers);
    }
    this.count++;
  }

  /** Emits `value` serialised as JSON, with the input's key and headers. */
  json(value) {
    this.value(JSON.stringify(value));
  }

  /** Emits the input event unchanged. */
  forward() {
    const event = this._event;
    if (event._valueSpan !== undefined && event._data === this._result.data.input) {
      this._result.pushSameKey(this._input, event, event._valueSpan);
      this.count++;
    } else {
      this.value(event.value);
    }
  }

  /** Emits an output built by hand: `{ value, key?, headers? }` (headers as `{name, value}`). */
  output({ value, key, headers = [] }) {
    this._result.push(this._input, key, value, headers);
    this.count++;
  }
}

/** The `batch-result` under construction. */
class ResultBuilder {
  constructor(capacity, input) {
    this.data = new Bytes(capacity, input);
    this.headers = [];
    this.outputs = [];
    this.failures = [];
  }

  push(input, key, value, headers) {
    const data = this.data;
    let keySpan;
    if (key !== undefined) keySpan = data.value(key);
    const valueSpan = data.value(value);
    const first = this.headers.length;
    for (const header of headers) {
      this.headers.push({ name: data.value(header.name), value: data.value(header.value) });
    }
    this.outputs.push({
      input,
      key: keySpan,
      value: valueSpan,
      headers: { start: first, len: headers.length },
    });
  }

  /** An output of an event unpacked from this batch that keeps its key and headers: their
   * spans point into the copy of the batch's data, as `valueSpan` may. */
  pushSameKey(input, event, valueSpan) {
    const hs = event._headerSpan;
    let headers = EMPTY;
    if (hs !== undefined && hs.len > 0) {
      headers = { start: this.headers.length, len: hs.len };
      for (let i = 0; i < hs.len; i++) this.headers.push(event._batchHeaders[hs.start + i]);
    }
    this.outputs.push({ input, key: event._keySpan, value: valueSpan, headers });
  }

  fail(input, error) {
    this.failures.push({ input, error });
  }

  finish() {
    return {
      data: this.data.buf.subarray(0, this.data.used),
      headers: headerColumns(this.headers),
      outputs: outputColumns(this.outputs),
      failures: this.failures,
    };
  }
}

/** What a thrown value becomes: an `EventError` as is, anything else `rejected`. */
function toWitError(thrown) {
  if (thrown instanceof EventError) return thrown.toWit();
  const message = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
  return { kind: ErrorKind.Rejected, field: undefined, message: `plugin threw ${message}` };
}

const EMPTY = Object.freeze({ start: 0, len: 0 });

/** Span `i` of a span column. */
function spanAt(column, i) {
  return { start: column[2 * i], len: column[2 * i + 1] };
}

/** The batch's header columns as `{ name, value }` span objects. */
function headerSpans(columns) {
  const out = new Array(columns.names.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = { name: spanAt(columns.names, i), value: spanAt(columns.values, i) };
  }
  return out;
}

/** `{ name, value }` span objects as the contract's header columns. */
function headerColumns(headers) {
  const names = new Uint32Array(2 * headers.length);
  const values = new Uint32Array(2 * headers.length);
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    names[2 * i] = h.name.start;
    names[2 * i + 1] = h.name.len;
    values[2 * i] = h.value.start;
    values[2 * i + 1] = h.value.len;
  }
  return { names, values };
}

/** Output objects as the contract's output columns. */
function outputColumns(outputs) {
  const n = outputs.length;
  const columns = {
    inputs: new Uint32Array(n),
    keys: new Uint32Array(2 * n),
    values: new Uint32Array(2 * n),
    headers: new Uint32Array(2 * n),
  };
  for (let i = 0; i < n; i++) {
    const o = outputs[i];
    columns.inputs[i] = o.input;
    columns.keys[2 * i] = o.key === undefined ? NO_KEY : o.key.start;
    columns.keys[2 * i + 1] = o.key === undefined ? 0 : o.key.len;
    columns.values[2 * i] = o.value.start;
    columns.values[2 * i + 1] = o.value.len;
    columns.headers[2 * i] = o.headers.start;
    columns.headers[2 * i + 1] = o.headers.len;
  }
  return columns;
}

function headersOf(data, headers, span) {
  const out = new Array(span.len);
  for (let i = 0; i < span.len; i++) {
    const h = headers[span.start + i];
    out[i] = {
      name: decoder.decode(data.subarray(h.name.start, h.name.start + h.name.len)),
      value: data.subarray(h.value.start, h.value.start + h.value.len),
    };
  }
  return out;
}

/**
 * Runs `plugin.process(event, emit)` over a packed batch and packs the outcome: the body of
 * the component's `process` export.
 */
export function processBatch(plugin, batch) {
  const data = batch.data;
  const columns = batch.events;
  const count = columns.timestampsMs.length;
  const batchHeaders = headerSpans(batch.headers);
  const result = new ResultBuilder(data.length + count * 128 + 1024, data);
  const emit = new Emit(result);
  for (let i = 0; i < count; i++) {
    const hs = spanAt(columns.headers, i);
    const event = new Event(
      undefined,
      Number(columns.timestampsMs[i]),
      undefined,
      hs.len === 0 ? NO_HEADERS : () => headersOf(data, batchHeaders, hs),
      batch.topics[columns.topics[i]] ?? '',
      columns.partitions[i],
      columns.offsets[i],
    );
    event._data = data;
    event._valueSpan = spanAt(columns.values, i);
    event._keySpan = columns.keys[2 * i] === NO_KEY ? undefined : spanAt(columns.keys, i);
    event._headerSpan = hs;
    event._batchHeaders = batchHeaders;
    emit._event = event;
    emit._input = i;
    const used = result.data.used;
    const headerCount = result.headers.length;
    const outputCount = result.outputs.length;
    try {
      plugin.process(event, emit);
    } catch (thrown) {
      // Discard what the event wrote before failing.
      result.data.used = used;
      result.headers.length = headerCount;
      result.outputs.length = outputCount;
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
  const result = new ResultBuilder(256);
  const emit = new Emit(result);
  emit._event = event;
  plugin.process(event, emit);
  const data = result.data.buf.subarray(0, result.data.used);
  const slice = (span) => (span === undefined ? undefined : data.slice(span.start, span.start + span.len));
  return result.outputs.map((o) => ({
    key: slice(o.key),
    value: slice(o.value),
    headers: result.headers
      .slice(o.headers.start, o.headers.start + o.headers.len)
      .map((h) => ({ name: decoder.decode(slice(h.name)), value: slice(h.value) })),
  }));
}
