/** transfer: the one engine that moves manifest graphs from a source to a sink. */
export * from './engine.js'
export * from './plan.js'
export * from './budget.js'
