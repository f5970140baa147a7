/** stores: sources and sinks (see types.ts) and how users name them. */
export type * from './types.js'
export * from './location.js'
export * from './open.js'
export {RegistrySink, RegistrySource, type RegistrySinkOptions} from './registry.js'
export {CachingSource} from './cache.js'
