/** The port that starts the work of a detection run somewhere: in process locally, a Lambda on AWS. */
export interface DetectionDispatcher {
  dispatch(runId: string): Promise<void>;
}
