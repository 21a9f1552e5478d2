/** PostgreSQL text cannot hold U+0000: refuse it up front instead of failing the INSERT. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this refuses
export const NO_NUL = /^[^\u0000]*$/;
export const NO_NUL_MESSAGE = { message: '$property must not contain NUL characters' };
