// The `{{name}}` weir plugin.
//
// It adds one field to every JSON event: `"processed_by": "{{name}}"` (the field name can
// be changed with the config key `field`). Replace the body of `process` with your logic;
// the SDK's types (node_modules/@weir/sdk/types/index.d.ts) list the helpers.

import { EventError } from '@weir/sdk';

/** The plugin; one instance handles every event of a worker, in order. */
export default class Tagger {
  static init(config) {
    config.only(['field']);
    return new Tagger(config.get('field') ?? 'processed_by');
  }

  constructor(field) {
    this.field = field;
  }

  process(event, out) {
    const object = event.json();
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      throw EventError.invalidInput('value is JSON but not an object');
    }
    if (this.field in object) throw EventError.invalidField(this.field, 'already present');
    // Append the field to the original bytes: no re-serialisation of the event.
    out.value(event.splice().push(this.field, '{{name}}'));
  }
}
