/**
 * URLs may carry credentials (`redis://:password@host`, `https://user:token@ghe.example`,
 * `?password=` in a query): what a URL looks like once they are masked, for logs and anything
 * shown to people. The host, port and path stay, because those are what an operator checks.
 */

/** Query parameters whose values are credentials (ioredis reads `?password=`, proxies `?token=`). */
const SECRET_PARAMETER = /pass|secret|token|key|auth|signature|sig$/i;

const MASK = '***';

/**
 * `value` with its credentials replaced by `***`: the password, a user name given without a
 * password (it is then the credential, as in `https://<token>@host`), and secret-looking query
 * parameters. Anything that is not an absolute URL, or has no credentials, comes back as it was.
 */
export function maskUrlCredentials(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not parseable, yet shaped like a URL: it may still hold a password, so show none of it.
    return '(unparseable URL)';
  }
  let masked = false;
  if (url.password) {
    url.password = MASK;
    masked = true;
  } else if (url.username) {
    url.username = MASK;
    masked = true;
  }
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAMETER.test(name)) {
      url.searchParams.set(name, MASK);
      masked = true;
    }
  }
  return masked ? url.toString() : value;
}
