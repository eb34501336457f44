// The store node's configuration file: see store-config.ts for the fields and their defaults.

export { type Address, formatAddress, parseAddress } from './address.js';
export { ConfigError, type ConfigProblem } from './errors.js';
export { loadStoreConfig, parseStoreConfig } from './load.js';
export { parseByteSize } from './sizes.js';
export * from './store-config.js';
