/**
 * The body of a call that takes none: absent or `{}`. With the app's ValidationPipe
 * (`forbidNonWhitelisted`) any field is refused with 400, as everywhere (CONTRACT: unknown JSON
 * fields are refused).
 */
export class EmptyBody {}
