/**
 * Yuma mechanism simulator: runs scenarios (validators, miners, weight copiers, cabals, late
 * validators, bond resets) through the real integer-exact epoch over many epochs and compares
 * original Yuma, Yuma 3 and Yuma 3 + liquid alpha.
 */
import { runEpoch } from '../consensus/epoch.ts';
import { simulate } from './engine.ts';
import type { RunOptions, Scenario, SimulationResult } from './types.ts';

export type {
  BondReset,
  EpochRecord,
  Hyperparameters,
  Mode,
  Participant,
  ParticipantSummary,
  Role,
  RunOptions,
  Scenario,
  SimulationResult,
  WeightTargets,
} from './types.ts';
export { MODES, defaultHyperparameters } from './types.ts';
export { builtinScenarios, findBuiltinScenario, YUMA3_TEST_PARAMS } from './scenarios.ts';
export { parseScenarioFile, parseScenarioText, scenarioFileSchema } from './scenario-file.ts';
export { renderSvgChart, type ChartPanel, type ChartSeries, type SvgChartSpec } from './svg-chart.ts';
export { formatRunTables, formatSummary, renderMetricChart, resultsToJson, type ChartMetric } from './report.ts';
export { simulate, type EpochFn } from './engine.ts';
export { maxUpscaleToU16 } from './weights.ts';

/** Run a scenario through subtensor's epoch (framework/consensus `runEpoch`) for `opts.epochs` epochs. */
export function runScenario(scenario: Scenario, opts: RunOptions): SimulationResult {
  return simulate(scenario, opts, runEpoch);
}
