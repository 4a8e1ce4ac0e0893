export { SubtensorChain } from './subtensor-chain.ts';
export type { SubtensorChainOptions } from './subtensor-chain.ts';
export { SUBTENSOR_NETWORKS, networkEndpoint } from './endpoints.ts';
export { MissingCallError, buildCall, declaredArgs, hasCall } from './surface.ts';
export type { CallSource } from './surface.ts';
export * as subtensorCalls from './calls.ts';
export { decodeNeuronsLite, registerOpaqueNeuronType } from './neurons.ts';
export type { NeuronLite } from './neurons.ts';
export { ipToU128, u128ToIp } from './ip.ts';
