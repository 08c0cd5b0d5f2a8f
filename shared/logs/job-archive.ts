/**
 * Where the record of a finished job goes before retention deletes its row (CONDUCTOR_ARCHIVE_JOBS,
 * api/jobs/purge-jobs.ts): one JSON object per job, `{cluster id}/archive/jobs/{id}.json`, beside the job output in
 * the same store. One object per job makes the archive exact under retries: a run that archived a job and then failed
 * before deleting its row writes the same object again next time, never a second record. slurmdbd's ArchiveJobs
 * (slurmdbd.conf(5)) is the model: accounting records kept past their purge, in files of the site's own.
 */

/** The job whose record is archived: its cluster's id (a uuid) and its id. */
export interface ArchivedJobId {
  cluster: string;
  jobId: number;
}

export interface JobArchive {
  /**
   * Stores the job's record (JSON, UTF-8) under archiveKey(job); storing it again replaces it.
   * @throws LogStoreUnavailable when the store does not take it
   */
  archiveJob(job: ArchivedJobId, record: Uint8Array): Promise<void>;
}

/** The cluster's archive folder, `{cluster}/archive/jobs/`, under the store's own prefix. */
export const archiveFolder = (job: ArchivedJobId) => `${job.cluster}/archive/jobs/`;

/** The record's name in its folder: `{id}.json`. */
export const archiveName = (job: ArchivedJobId) => `${job.jobId}.json`;

export const archiveKey = (job: ArchivedJobId) => archiveFolder(job) + archiveName(job);
