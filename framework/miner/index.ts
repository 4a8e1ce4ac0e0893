export { startMiner, type StartMinerParams, type MinerHandle, type MinerAxonConfig } from './runtime.ts';
