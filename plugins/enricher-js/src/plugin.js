// weir's default plugin in JavaScript: derives `full_name`, `email_domain`, `age` and
// `age_group` from a flat user event, at the event's own timestamp. The logic is in
// `enrich.js`; this module only adapts it to the SDK. It takes no configuration.

import { enrich } from './enrich.js';

export default {
  init(config) {
    config.only([]);
    return this;
  },

  process(event, out) {
    out.value(enrich(event));
  },
};
