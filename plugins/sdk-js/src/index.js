// Write a weir plugin in JavaScript: export a default object (or class) with `process`
// and, optionally, `init`; `weir-build-js` turns the module into a WebAssembly component
// for weir:transform@0.3.0. The SDK hides the packed batch layout: `process` sees one
// `Event` at a time and writes its outputs to an `Emit`, just like the Rust SDK.
//
//   import { EventError } from '@weir/sdk';
//
//   export default class Greeter {
//     static init(config) {
//       config.only(['prefix']);
//       return new Greeter(config.get('prefix') ?? 'hello');
//     }
//     constructor(prefix) { this.prefix = prefix; }
//     process(event, out) {
//       const { name } = event.json();
//       if (typeof name !== 'string') throw EventError.invalidField('name', 'expected a string');
//       if (name === '') return;                      // no output: the event is dropped
//       out.value(event.splice().push('greeting', `${this.prefix} ${name}`));
//     }
//   }

import { Config } from './config.js';
import { processBatch } from './batch.js';

export { Config } from './config.js';
export { EventError, ErrorKind } from './errors.js';
export { Event } from './event.js';
export { Splice } from './json.js';
export { Emit, run } from './batch.js';

let writeLine = (level, message) => console.error(`[${level}] ${message}`);

/**
 * Log lines that land in the host's log output, tagged with the plugin's name. Outside a
 * component (native tests) they go to standard error.
 */
export const log = Object.freeze({
  trace: (message) => writeLine('trace', String(message)),
  debug: (message) => writeLine('debug', String(message)),
  info: (message) => writeLine('info', String(message)),
  warn: (message) => writeLine('warn', String(message)),
  error: (message) => writeLine('error', String(message)),
});

/**
 * Builds a plugin from its definition and config: `definition.init(config)` when it has
 * one (its result is the plugin), else the definition itself.
 */
export function instantiate(definition, config = new Config()) {
  if (typeof definition.init === 'function') {
    const plugin = definition.init(config instanceof Config ? config : new Config(config));
    if (plugin === undefined || typeof plugin.process !== 'function') {
      throw new Error('init must return the plugin: an object with a process(event, out) method');
    }
    return plugin;
  }
  if (typeof definition.process !== 'function') {
    throw new Error('a weir plugin must have a process(event, out) method');
  }
  return definition;
}

/**
 * The `transform` export of the component for `definition`; the build command generates
 * the call, authors do not write it. `write` is the host's log import.
 */
export function exportPlugin(definition, write) {
  if (write) writeLine = write;
  let plugin;
  return {
    init(entries) {
      try {
        plugin = instantiate(definition, new Config(entries));
      } catch (e) {
        // componentize-js turns a thrown value into the `err` of `result<_, string>`.
        throw e instanceof Error ? e.message : String(e);
      }
    },
    process(batch) {
      if (plugin === undefined) plugin = instantiate(definition);
      return processBatch(plugin, batch);
    },
  };
}
