import { DomainError, ErrorCode } from '../../domain';

/**
 * At most `max` evaluations run at once in one API process. A dry run runs the check stage inline
 * (layers streamed for the secret scan, SBOMs matched against advisories), so a burst of them
 * must not take the API's CPU and connections from everything else: one more is refused with 429
 * rather than queued behind the others.
 */
export class InFlightLimit {
  private running = 0;

  constructor(private readonly max: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) {
      throw new DomainError(
        ErrorCode.RateLimited,
        `${this.max} evaluations are running on this server already; retry shortly`,
        { inFlight: this.running },
      );
    }
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
    }
  }
}
