/// <reference path="./weir-transform-types.d.ts" />
declare module 'weir:transform/transform@0.3.0' {
  /**
   * Called once per instance before any batch, with the plugin's `config` table from the
   * host configuration as key/value strings. An `err` refuses the plugin at load time and
   * its message is shown to the operator.
   */
  export function init(config: Array<[string, string]>): void;
  /**
   * Transforms a batch: each input event is emitted (one or many outputs), failed, or dropped;
   * see `batch-result`.
   * The host sends many events per call because each crossing has a fixed cost.
   */
  export function process(batch: Batch): BatchResult;
  export type Batch = import('weir:transform/types@0.3.0').Batch;
  export type BatchResult = import('weir:transform/types@0.3.0').BatchResult;
}
