/** Redis key names of one validator (netuid, mechanism, hotkey); everything the split validator shares lives under them. */
export interface ScaleKeys {
  readonly prefix: string;
  /** BullMQ queue of scoring jobs (BullMQ refuses ':' in names). */
  readonly taskQueue: string;
  /** BullMQ queue holding delayed (pending) tasks, see BullPendingStore. */
  readonly pendingQueue: string;
  readonly lease: string;
  readonly meta: string;
  readonly step: string;
  readonly seq: string;
  readonly cursor: string;
  readonly results: string;
  /** Bitmap segments of dispatched seqs (`dispatchedSegment(floor(seq / DISPATCHED_SEGMENT_SEQS))`), trimmed below the cursor. */
  dispatchedSegment(segment: number): string;
  readonly scores: string;
  readonly minerState: string;
  readonly counts: string;
  readonly counters: string;
  readonly scoredPending: string;
  dispatching(pendingId: string): string;
}

export function scaleKeys(netuid: number, mechid: number, hotkey: string): ScaleKeys {
  const prefix = `subnetkit:scale:${netuid}:${mechid}:${hotkey}:`;
  const tag = `${netuid}-${mechid}-${hotkey}`;
  return {
    prefix,
    taskQueue: `subnetkit-tasks-${tag}`,
    pendingQueue: `subnetkit-pending-${tag}`,
    lease: `${prefix}lease`,
    meta: `${prefix}meta`,
    step: `${prefix}step`,
    seq: `${prefix}seq`,
    cursor: `${prefix}cursor`,
    results: `${prefix}results`,
    dispatchedSegment: (segment) => `${prefix}dispatched:${segment}`,
    scores: `${prefix}scores`,
    minerState: `${prefix}minerstate`,
    counts: `${prefix}counts`,
    counters: `${prefix}counters`,
    scoredPending: `${prefix}scoredpending`,
    dispatching: (id) => `${prefix}dispatching:${id}`,
  };
}
