/**
 * A GitHub App key pair made at test time (never committed). GitHub hands Apps a PKCS#1 PEM
 * ("BEGIN RSA PRIVATE KEY"), so that is what this returns.
 */
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

const generate = promisify(generateKeyPair);

export interface AppKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export async function generateAppKeyPair(): Promise<AppKeyPair> {
  const { privateKey, publicKey } = await generate('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
