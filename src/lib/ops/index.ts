/** ops: one operation per command, values in and out; no printing. */
export * from './auth.js'
export * from './blob.js'
export * from './config.js'
export * from './digest.js'
export * from './list.js'
export * from './manifest.js'
export * from './resolve.js'
export * from './tag.js'
