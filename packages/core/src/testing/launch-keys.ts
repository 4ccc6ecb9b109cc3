/** A fresh Ed25519 launch key pair for a test: nothing is kept in the repository. */
import { generateKeyPairSync } from 'node:crypto';

export interface LaunchKeyPair {
  /** PKCS#8 PEM, as LAUNCH_SIGNING_KEY. */
  privatePem: string;
  /** SPKI PEM, as LAUNCH_VERIFY_KEYS. */
  publicPem: string;
}

export function launchKeyPair(): LaunchKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
