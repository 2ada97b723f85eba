// Following a job (GET /api/v1/jobs/{id}) to its end: an optimisation posted to /api/v1/jobs, or an
// evaluation, stored plan or report that the service queued because it is over its synchronous limit.

import { ApiError, getJson, postJson } from './api.js';

const POLL_MS = 400;

/**
 * Poll job `id` until it ends, calling `onProgress(job)` at every answer. Resolves to
 * the job's result (the answer its synchronous endpoint gives, with `plan_id` when a plan
 * was stored); rejects with the job's error when it failed or was cancelled.
 */
export async function pollJob(id, onProgress) {
  for (;;) {
    const job = await getJson(`/api/v1/jobs/${encodeURIComponent(id)}`);
    onProgress(job);
    if (job.status === 'succeeded') return job.result;
    if (job.status === 'failed' || job.status === 'cancelled') {
      const detail = typeof job.error === 'string' ? job.error : JSON.stringify(job.error);
      throw new ApiError(200, [`the ${job.kind || 'optimisation'} job ${job.status}: ${detail || 'no reason given'}`]);
    }
    await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
  }
}

/** Whether an answer is a queued job (202 `{id, status: "queued"}`) rather than the answer itself. */
export function isQueuedJob(answer) {
  return Boolean(answer) && typeof answer.id === 'string' && answer.status === 'queued' && !answer.type;
}

/**
 * POST `payload` to `url` and resolve to its answer: at once when the service answers it, or,
 * when the service queued it as a job (too large to answer at once), once the job has succeeded.
 */
export async function postFollowingJob(url, payload, onProgress = () => {}) {
  const answer = await postJson(url, payload);
  return isQueuedJob(answer) ? pollJob(answer.id, onProgress) : answer;
}
