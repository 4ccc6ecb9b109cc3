/** Pieces every route's schema shares: error answers and the security requirement, for /docs. */
const errorDescriptions: Record<number, string> = {
  400: 'The request is malformed; the message says which field or entry and why',
  401: 'No or no valid bearer token',
  403: 'Signed in, but not allowed',
  404: 'No such record, or not one of yours',
  409: 'Conflicts with the current state; nothing was changed',
  422: 'Names something that does not exist (a repository GitHub has no trace of); nothing was changed',
  429: 'Too many requests from this client; retry after the Retry-After header',
  502: 'GitHub answered with an error',
  503: 'A dependency (Redis, GitHub, the sign-in provider) is not available or not configured',
};

export function errorResponses(...codes: number[]): Record<number, object> {
  return Object.fromEntries(codes.map((code) => [code, { description: errorDescriptions[code], $ref: 'ApiError#' }]));
}

type Security = Array<Record<string, string[]>>;
export const bearerSecurity: Security = [{ bearer: [] }];
export const bearerOrSessionSecurity: Security = [{ bearer: [] }, { session: [] }];
