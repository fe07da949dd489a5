/** An error KMS itself would return: `type` becomes `__type`, which the SDK maps to its typed exception. */
export class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}
