/** Thrown by a command whose check ran and failed after printing its findings (exit 1, not a usage error). */
export class CheckFailed extends Error {}
