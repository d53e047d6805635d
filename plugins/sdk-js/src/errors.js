// Per-event errors: one bad event fails alone, with a reason the operator can act on.
// The messages match the Rust SDK's (`weir_sdk::EventError`) word for word.

/** The WIT `error-kind` names. */
export const ErrorKind = Object.freeze({
  InvalidInput: 'invalid-input',
  MissingField: 'missing-field',
  InvalidField: 'invalid-field',
  Rejected: 'rejected',
});

/**
 * Why a plugin refused one event. Throw it from `process`: the SDK turns it into a
 * `failure` for that event alone, and the host dead-letters the event with it.
 */
export class EventError extends Error {
  constructor(kind, field, message) {
    super(message);
    this.name = 'EventError';
    this.kind = kind;
    this.field = field ?? undefined;
  }

  /** Field `field` is absent. */
  static missingField(field) {
    return new EventError(ErrorKind.MissingField, field, `field \`${field}\` is missing`);
  }

  /** Field `field` is present but unusable; `problem` says why. */
  static invalidField(field, problem) {
    return new EventError(ErrorKind.InvalidField, field, `field \`${field}\`: ${problem}`);
  }

  /** The value as a whole could not be read (not JSON, not an object, not UTF-8). */
  static invalidInput(problem) {
    return new EventError(ErrorKind.InvalidInput, undefined, String(problem));
  }

  /** The plugin refuses the event for a reason of its own. */
  static rejected(reason) {
    return new EventError(ErrorKind.Rejected, undefined, String(reason));
  }

  /** The WIT `event-error` record. */
  toWit() {
    return { kind: this.kind, field: this.field, message: this.message };
  }
}
