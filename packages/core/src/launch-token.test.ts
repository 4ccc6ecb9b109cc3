import { launchKeyPair } from './testing/launch-keys.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { createLaunchSigner, createLaunchVerifier, parseVerificationKeys, type LaunchClaimsInput } from './launch-token.ts';

const ed25519 = launchKeyPair;

const claims: LaunchClaimsInput = {
  sub: 'l-1', repository: 'octo/repo', repositoryUrl: 'https://github.com/octo/repo', workflowJobId: 5,
  labels: ['self-hosted', 'slurm'], runnerName: 'slurm-l-1', clusterUser: 'alice', installationId: 9, profile: 'default',
};

test('a token signed with one key verifies with the published set, including after rotation', async () => {
  const oldKey = ed25519();
  const newKey = ed25519();
  const signer = await createLaunchSigner({ privateKeyPem: oldKey.privatePem });
  const verifier = createLaunchVerifier(await parseVerificationKeys(newKey.publicPem + oldKey.publicPem));
  const { token } = await signer.sign(claims);
  const result = await verifier.verify(token);
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.claims.repository, 'octo/repo');
  assert.equal(result.claims.sub, 'l-1');
  assert.equal(verifier.keys.find((k) => k.kid === signer.kid)?.jwk.kty, 'OKP');
});

test('each kind of bad token fails the check it should', async () => {
  const key = ed25519();
  const signer = await createLaunchSigner({ privateKeyPem: key.privatePem });
  const verifier = createLaunchVerifier(await parseVerificationKeys(key.publicPem));
  const stranger = await createLaunchSigner({ privateKeyPem: ed25519().privatePem });
  const expired = await createLaunchSigner({ privateKeyPem: key.privatePem, ttlSeconds: -10 });
  const wrongIssuer = await createLaunchSigner({ privateKeyPem: key.privatePem, issuer: 'someone' });
  const wrongAudience = await createLaunchSigner({ privateKeyPem: key.privatePem, audience: 'other' });
  const good = (await signer.sign(claims)).token;
  const [header, payload] = good.split('.');
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: signer.kid })).toString('base64url')}.${payload}.`;
  // The classic confusion: HS256 "signed" with the public key as the HMAC secret.
  const hsHeader = Buffer.from(JSON.stringify({ alg: 'HS256', kid: signer.kid })).toString('base64url');
  const hs256 = `${hsHeader}.${payload}.${createHmac('sha256', key.publicPem).update(`${hsHeader}.${payload}`).digest('base64url')}`;
  const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), clusterUser: 'root' })).toString('base64url')}.${good.split('.')[2]}`;
  const missingClaim = await new SignJWT({ repository: 'x/y' }).setProtectedHeader({ alg: 'EdDSA', kid: signer.kid })
    .setIssuer('gha-slurm').setAudience('gha-slurm-token-broker').setSubject('s').setJti('j').setIssuedAt().setExpirationTime('1h')
    .sign((await import('node:crypto')).createPrivateKey(key.privatePem));

  const cases: Array<[string, string]> = [
    ['not a jwt', 'malformed'],
    [none, 'algorithm'],
    [hs256, 'algorithm'],
    [(await stranger.sign(claims)).token, 'unknown-key'],
    [tampered, 'signature'],
    [(await expired.sign(claims)).token, 'expired'],
    [(await wrongIssuer.sign(claims)).token, 'issuer'],
    [(await wrongAudience.sign(claims)).token, 'audience'],
    [missingClaim, 'claims'],
  ];
  for (const [token, failure] of cases) {
    const result = await verifier.verify(token);
    assert.equal(result.ok ? 'ok' : result.failure, failure, token.slice(0, 40));
  }
});

test('keys that are not Ed25519 are refused with a hint', async () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await assert.rejects(createLaunchSigner({ privateKeyPem: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }), /Ed25519.*openssl genpkey/);
  await assert.rejects(parseVerificationKeys('nothing here'), /no PEM public key/);
  await assert.rejects(createLaunchSigner({ privateKeyPem: 'garbage' }), /LAUNCH_SIGNING_KEY is not a PEM private key/);
});
