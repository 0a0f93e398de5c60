/** A workbench call that failed, with one line for the user; on its own so the Electron main process can use it without loading the host. */
export class CallError extends Error {
  constructor(
    message: string,
    /** True when the caller caused it (bad payload, unknown id): a 400, not a 500. */
    readonly user: boolean,
  ) {
    super(message);
    this.name = 'CallError';
  }
}
