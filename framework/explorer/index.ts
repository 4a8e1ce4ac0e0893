export { mountExplorer, startExplorer, LIVE_PATH, type ExplorerMount, type ExplorerOptions, type ExplorerServer } from './server.ts';
export { HistoryRecorder, type HistoryOptions, type UidHistory } from './history.ts';
export { subnetSummary, subnetView, weightsView, type NeuronRow, type SubnetSummary, type SubnetView, type WeightsView } from './views.ts';
