/** Stable error codes carried by every HTTP error body and every Socket.IO nack. */
export const ErrorCode = {
  BadRequest: 'bad_request',
  Unauthenticated: 'unauthenticated',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  PayloadTooLarge: 'payload_too_large',
  MalformedUpdate: 'malformed_update',
  UpdateShapeMismatch: 'update_shape_mismatch',
  UpdateNotFinite: 'update_not_finite',
  UpdateNormExceeded: 'update_norm_exceeded',
  /** A value beyond the round's representable range (see shared/fl/bounds.ts). */
  UpdateOutOfRange: 'update_out_of_range',
  /** An update declaring more samples than the training records its site reported when it joined. */
  UpdateSamplesExceeded: 'update_samples_exceeded',
  /** An evaluation report no honest tab could send: more samples than its validation split, figures that contradict each other. */
  ImplausibleReport: 'implausible_report',
  RoundNotOpen: 'round_not_open',
  WrongBaseVersion: 'wrong_base_version',
  NotSampled: 'not_sampled',
  DuplicateUpdate: 'duplicate_update',
  StudyNotRunning: 'study_not_running',
  Conflict: 'conflict',
  /** A daily or per-period allowance is used up; the message says when it resets. */
  RateLimited: 'rate_limited',
  /** For a moment no server process can do it (several processes: the study's coordinator is changing); try again. */
  Unavailable: 'unavailable',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ApiError {
  code: ErrorCode;
  message: string;
}

/** An error that knows its code and HTTP status; thrown inside the server, serialised at the edge. */
export class ConsiliumError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
    this.name = 'ConsiliumError';
  }
  toJSON(): ApiError {
    return { code: this.code, message: this.message };
  }
}
