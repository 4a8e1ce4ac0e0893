/** Display units of the explorer: TAO as a JS number (display only; RAO strings carry exact values). */
export const RAO_PER_TAO_NUMBER = 1e9;

/** u16 proportion as stored on chain → 0..1. */
export function u16ToUnit(v: number): number {
  return v / 65535;
}

export function raoToTao(rao: bigint): number {
  return Number(rao) / RAO_PER_TAO_NUMBER;
}
