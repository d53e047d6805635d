// A plugin's configuration: the `config` table from the host configuration, as strings.

/**
 * The key/value strings the host passes to `init`. Read them once, turn them into typed
 * fields and refuse bad values there: an `init` error stops the plugin from loading and is
 * shown to the operator.
 */
export class Config {
  /** @param {Iterable<[string, string]> | Record<string, string>} entries */
  constructor(entries = []) {
    const pairs = Symbol.iterator in Object(entries) ? entries : Object.entries(entries);
    this.entries = Array.from(pairs, ([k, v]) => [String(k), String(v)]);
  }

  /** The value of `key`, if set (the last one if the host repeated it). */
  get(key) {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i][0] === key) return this.entries[i][1];
    }
    return undefined;
  }

  /** The value of `key`, or throws a message naming the missing key. */
  require(key) {
    const value = this.get(key);
    if (value === undefined) throw new Error(`missing config key \`${key}\``);
    return value;
  }

  /** Refuses keys outside `known`, so a typo is reported instead of silently ignored. */
  only(known) {
    for (const [key] of this.entries) {
      if (!known.includes(key)) {
        throw new Error(`unknown config key \`${key}\`; this plugin accepts: ${known.join(', ')}`);
      }
    }
  }
}
