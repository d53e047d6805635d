declare module 'weir:transform/log@0.3.0' {
  /**
   * Writes one log line.
   */
  export function write(level: Level, message: string): void;
  /**
   * Severity of a log line.
   * # Variants
   * 
   * ## `"trace"`
   * 
   * Fine-grained detail, normally hidden.
   * ## `"debug"`
   * 
   * Detail useful when debugging a plugin.
   * ## `"info"`
   * 
   * Normal operation.
   * ## `"warn"`
   * 
   * Something unexpected that the plugin handled.
   * ## `"error"`
   * 
   * Something failed.
   */
  export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';
}
