/** The port through which accepted signals reach the consumer. */
import type { IngestMessage } from '../contract/signals.js';

/** How many messages are where, as the status endpoint reports. */
export interface QueueDepth {
  waiting: number;
  inFlight: number;
  deadLetter: number;
}

export interface SignalQueue {
  /** Durably enqueues every message, or throws (nothing is then reported as accepted). */
  enqueue(messages: IngestMessage[]): Promise<void>;
  depth(): Promise<QueueDepth>;
}
