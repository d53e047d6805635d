/// <reference path="./interfaces/weir-transform-log.d.ts" />
/// <reference path="./interfaces/weir-transform-transform.d.ts" />
/// <reference path="./interfaces/weir-transform-types.d.ts" />
declare module 'weir:transform/transformer@0.3.0' {
  export type * as WeirTransformLog030 from 'weir:transform/log@0.3.0'; // import weir:transform/log@0.3.0
  export type * as WeirTransformTypes030 from 'weir:transform/types@0.3.0'; // import weir:transform/types@0.3.0
  export * as transform from 'weir:transform/transform@0.3.0'; // export weir:transform/transform@0.3.0
}
