import { describe, expect, it } from 'vitest';
import { ApiRequestError } from './http';
import { rateLimitedRetryMs } from './socket';

describe('rateLimitedRetryMs', () => {
  it('reads the delay the server stated in a rate_limited refusal', () => {
    expect(rateLimitedRetryMs(new ApiRequestError('rate_limited', 'too many events from this connection or account: try again in 3 s'))).toBe(3_000);
  });
  it('waits 5 s when the refusal states no delay, and ignores other errors', () => {
    expect(rateLimitedRetryMs(new ApiRequestError('rate_limited', 'slow down'))).toBe(5_000);
    expect(rateLimitedRetryMs(new ApiRequestError('forbidden', 'try again in 3 s'))).toBeNull();
    expect(rateLimitedRetryMs(new Error('try again in 3 s'))).toBeNull();
  });
});
