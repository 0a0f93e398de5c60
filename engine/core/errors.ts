/**
 * An error caused by user input (a file, a flag, a model directory). The CLI prints its message as one
 * line and exits with code 2; it never shows a stack trace for these.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
