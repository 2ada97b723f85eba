// Following an optimisation job (POST /api/v1/jobs, GET /api/v1/jobs/{id}) to its end.

import { ApiError, getJson } from './api.js';

const POLL_MS = 400;

/**
 * Poll job `id` until it ends, calling `onProgress(job)` at every answer. Resolves to
 * the job's result (the optimisation answer, with `plan_id` when stored); rejects with
 * the job's error when it failed or was cancelled.
 */
export async function pollJob(id, onProgress) {
  for (;;) {
    const job = await getJson(`/api/v1/jobs/${encodeURIComponent(id)}`);
    onProgress(job);
    if (job.status === 'succeeded') return job.result;
    if (job.status === 'failed' || job.status === 'cancelled') {
      const detail = typeof job.error === 'string' ? job.error : JSON.stringify(job.error);
      throw new ApiError(200, [`the optimisation job ${job.status}: ${detail || 'no reason given'}`]);
    }
    await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
  }
}
