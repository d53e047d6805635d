declare module 'weir:transform/types@0.3.0' {
  /**
   * A table of byte ranges (or index ranges), flattened: entry `2 * i` is the start of
   * range `i` and entry `2 * i + 1` its length, so range `i` is `[start, start + len)`.
   */
  export type SpanList = Uint32Array;
  /**
   * Record headers, as Kafka carries them: entry `i` of each column is header `i`. Names
   * are UTF-8; values are opaque bytes (Kafka allows any bytes). Both are in the batch's
   * (or the result's) `data`.
   */
  export interface Headers {
    /**
     * Header names.
     */
    names: SpanList,
    /**
     * Header values.
     */
    values: SpanList,
  }
  /**
   * The input events, one entry per event in every column: Kafka records and where they
   * came from.
   * 
   * `topics`, `partitions` and `offsets` identify each record for the plugin's information
   * only; the host keeps its own copy and uses that for commits and dead letters.
   */
  export interface Events {
    /**
     * Record keys in `data`; a start of `0xffffffff` means the record has no key.
     */
    keys: SpanList,
    /**
     * Record values in `data`; for weir's own plugins JSON documents.
     */
    values: SpanList,
    /**
     * Each event's headers: a range of indexes into the batch's `headers`, in record order.
     */
    headers: SpanList,
    /**
     * Source topics: indexes into the batch's `topics` (each name is sent once per batch).
     */
    topics: Uint32Array,
    /**
     * Source partitions (0 for file sources).
     */
    partitions: Int32Array,
    /**
     * Offsets within the partition (line numbers for file sources).
     */
    offsets: BigInt64Array,
    /**
     * Record timestamps in milliseconds since the Unix epoch. Plugins that need "now" must
     * use these rather than a clock, so that a replay produces identical output.
     */
    timestampsMs: BigInt64Array,
  }
  /**
   * A batch of input events.
   */
  export interface Batch {
    /**
     * Every key, value, header name and header value of the batch, back to back.
     */
    data: Uint8Array,
    /**
     * Topic names, referred to by `events.topics` (empty string for file sources).
     */
    topics: Array<string>,
    /**
     * Every header of the batch, referred to by `events.headers`.
     */
    headers: Headers,
    /**
     * The events, in order.
     */
    events: Events,
  }
  /**
   * The output events of a batch, one entry per output in every column. An output
   * inherits the position and timestamp of the input event it came from.
   * 
   * An output that keeps its input's key, value or headers unchanged need not copy them:
   * a span whose start is `0xfffffffe` (and whose length is 0) in `keys`, `values` or
   * `headers` stands for the input event's own key (none if it has none), value or
   * headers. The host already holds those bytes and uses them as they are, so forwarding
   * an event costs no copy of its bytes in either direction.
   * 
   * Compatibility: this marker was added without changing the contract's version, because
   * every result that was valid before still is and means the same (no span into a
   * result's `data` can start at `0xfffffffe`: the data would have to fill a plugin's
   * whole 4 GiB memory). A host that predates it refuses a result that uses it as a
   * contract violation (the events fail with class `plugin-contract`); it never misreads
   * it. Plugins built with weir's SDKs use it where it applies.
   */
  export interface Outputs {
    /**
     * Index in the batch's events of the input event each output came from. Outputs are
     * listed in input order; an input with several outputs has several consecutive entries.
     */
    inputs: Uint32Array,
    /**
     * Keys to write, in the result's `data`; a start of `0xffffffff` writes no key, a
     * start of `0xfffffffe` keeps the input's key.
     */
    keys: SpanList,
    /**
     * Values to pass to the next plugin or the sink, in the result's `data`; a start of
     * `0xfffffffe` passes the input's value on unchanged.
     */
    values: SpanList,
    /**
     * Headers to carry along: ranges of indexes into the result's `headers`; a start of
     * `0xfffffffe` keeps the input's headers.
     */
    headers: SpanList,
  }
  /**
   * Why a plugin refused one event. The host dead-letters the event with this reason.
   * # Variants
   * 
   * ## `"invalid-input"`
   * 
   * The value could not be parsed (not JSON, not UTF-8, wrong shape).
   * ## `"missing-field"`
   * 
   * A field the plugin needs is absent.
   * ## `"invalid-field"`
   * 
   * A field has the wrong type or an unparsable value.
   * ## `"rejected"`
   * 
   * Anything else the plugin decided to reject.
   */
  export type ErrorKind = 'invalid-input' | 'missing-field' | 'invalid-field' | 'rejected';
  /**
   * A typed per-event error: one bad event never fails its neighbours.
   */
  export interface EventError {
    /**
     * The class of the error; goes into the dead-letter headers.
     */
    kind: ErrorKind,
    /**
     * The field at fault, when there is one.
     */
    field?: string,
    /**
     * A human-readable explanation for the operator.
     */
    message: string,
  }
  /**
   * One input event that failed.
   */
  export interface Failure {
    /**
     * Index in the batch's events of the failed event.
     */
    input: number,
    /**
     * Why it failed; it goes to the dead-letter destination with this error.
     */
    error: EventError,
  }
  /**
   * What became of a batch. Every input event is exactly one of: emitted (one or many
   * entries in `outputs`), failed (one entry in `failures`), or dropped (in neither).
   * An event must not appear in both lists.
   */
  export interface BatchResult {
    /**
     * Every key, value, header name and header value of the outputs, back to back.
     */
    data: Uint8Array,
    /**
     * Every header of the outputs, referred to by `outputs.headers`.
     */
    headers: Headers,
    /**
     * The outputs, in input order.
     */
    outputs: Outputs,
    /**
     * The failed events, in input order.
     */
    failures: Array<Failure>,
  }
}
