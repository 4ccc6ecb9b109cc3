/**
 * A demand pool: the queued jobs a runner may take, and the runners that may take them. A
 * runner registers with its profile's labels on its repository, so it can take any job of that
 * repository its profile serves; and it runs as one cluster user, so it may only take jobs the
 * repository runs as that user. Jobs and runners of one repository that belong to different
 * users (the repository changed hands) never count against each other.
 */
export interface Pool {
  repository: string;
  profile: string;
  clusterUser: string;
}

/** The pool of a launch, or of a job the dispatcher decided to launch for. */
export function poolOf(of: Pool): Pool {
  return { repository: of.repository, profile: of.profile, clusterUser: of.clusterUser };
}

/** The pool of a job record, when a profile and user were chosen for it (not for an ignored job). */
export function poolOfJob(job: { repository: string; profile?: string; clusterUser?: string }): Pool | null {
  return job.profile && job.clusterUser ? { repository: job.repository, profile: job.profile, clusterUser: job.clusterUser } : null;
}
