/**
 * subnetkit: the TypeScript framework for Bittensor-style subnets.
 * Each concept also has its own entry point: `subnetkit/wallet`, `subnetkit/btauth`, `subnetkit/protocol`, `subnetkit/axon`,
 * `subnetkit/dendrite`, `subnetkit/chain`, `subnetkit/consensus`, `subnetkit/commodity`,
 * `subnetkit/validator`, `subnetkit/miner`, `subnetkit/simulate`, `subnetkit/metrics`.
 */
export * from './commodity/index.ts';
export * from './wallet/index.ts';
export * from './chain/index.ts';
export * from './validator/index.ts';
export * from './miner/index.ts';
export { createAxon } from './axon/index.ts';
export type { Axon, AxonOptions, CallerInfo, CallerInfoProvider, Handler, HandlerContext } from './axon/index.ts';
export { Dendrite } from './dendrite/index.ts';
export type { AxonTarget, DendriteOptions, DendriteResponse, StreamChunk, StreamResult } from './dendrite/index.ts';
export { defineSynapse } from './protocol/synapse.ts';
export type { SynapseDef, RequestOf, ResponseOf } from './protocol/synapse.ts';
export { runEpoch } from './consensus/index.ts';
export type { EpochInput, EpochOutput, SparseRow } from './consensus/types.ts';
export { processWeightsForNetuid, convertWeightsAndUidsForEmit, commitHashV2 } from './consensus/weights/index.ts';
export { serveMetrics } from './metrics/index.ts';
export type { MetricsServer } from './metrics/index.ts';
export { createLogger, type LoggerOptions, type LogFormat, type LogLevel } from './util/log.ts';
export { UserError } from './errors.ts';
