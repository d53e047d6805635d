declare module 'weir:transform/types@0.2.0' {
  /**
   * A byte range `[start, start + len)` of a buffer, or, for `headers`, a range of
   * indexes into a header list.
   */
  export interface Span {
    /**
     * First byte (or first index).
     */
    start: number,
    /**
     * Number of bytes (or entries).
     */
    len: number,
  }
  /**
   * One record header, as Kafka carries it: a name (UTF-8) and opaque bytes, both in the
   * batch's `data`.
   */
  export interface Header {
    /**
     * Header name.
     */
    name: Span,
    /**
     * Header value; Kafka allows any bytes here.
     */
    value: Span,
  }
  /**
   * One input event: a Kafka record and where it came from.
   * 
   * `topic`, `partition` and `offset` identify the record for the plugin's information only;
   * the host keeps its own copy and uses that for commits and dead letters.
   */
  export interface Event {
    /**
     * Record key in `data`, if the record has one.
     */
    key?: Span,
    /**
     * Record value in `data`; for weir's own plugins a JSON document.
     */
    value: Span,
    /**
     * This event's headers: a range of indexes into the batch's `headers`, in record order.
     */
    headers: Span,
    /**
     * Source topic: an index into the batch's `topics` (each name is sent once per batch).
     */
    topic: number,
    /**
     * Source partition (0 for file sources).
     */
    partition: number,
    /**
     * Offset within the partition (line number for file sources).
     */
    offset: bigint,
    /**
     * Record timestamp in milliseconds since the Unix epoch. Plugins that need "now" must use
     * this rather than a clock, so that a replay produces identical output.
     */
    timestampMs: bigint,
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
     * Topic names, referred to by `event.topic` (empty string for file sources).
     */
    topics: Array<string>,
    /**
     * Every header of the batch, referred to by `event.headers`.
     */
    headers: Array<Header>,
    /**
     * The events, in order.
     */
    events: Array<Event>,
  }
  /**
   * One output event produced by a plugin. It inherits the position and timestamp of the
   * input event it came from.
   */
  export interface Output {
    /**
     * Index in `batch.events` of the input event this output came from. Outputs are listed
     * in input order; an input with several outputs has several consecutive entries.
     */
    input: number,
    /**
     * Key to write, in the result's `data`; `none` keeps no key.
     */
    key?: Span,
    /**
     * Value to pass to the next plugin or the sink, in the result's `data`.
     */
    value: Span,
    /**
     * Headers to carry along: a range of indexes into the result's `headers`.
     */
    headers: Span,
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
     * Index in `batch.events` of the failed event.
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
     * Every header of the outputs, referred to by `output.headers`.
     */
    headers: Array<Header>,
    /**
     * The outputs, in input order.
     */
    outputs: Array<Output>,
    /**
     * The failed events, in input order.
     */
    failures: Array<Failure>,
  }
}
