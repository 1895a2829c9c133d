import type { Response } from 'express';
import type { Accepted } from './jobs.service';

/**
 * The HTTP answer to a submission, shared by every kind's controller: 202 with the job
 * (Location: /jobs/<id>), or 200 with the job and its first results page if it finished within
 * `?wait`.
 */
export function answerSubmission(res: Response, accepted: Accepted): Accepted['job'] | (Accepted['job'] & { results: NonNullable<Accepted['results']> }) {
  res.status(accepted.results ? 200 : 202).location(accepted.job.links.self);
  if (accepted.replayed) res.setHeader('Idempotent-Replayed', 'true');
  return accepted.results ? { ...accepted.job, results: accepted.results } : accepted.job;
}
