/**
 * The yardstick: a bare Fastify route that verifies a launch token and nothing else (the same
 * verifier and keys as the broker), on loopback. Started as its own process by run.ts.
 *
 * Environment: BARE_PORT, LAUNCH_VERIFY_KEYS.
 */
import Fastify from 'fastify';
import { createLaunchVerifier, parseVerificationKeys } from '@gha-slurm/core/launch-token';

const verifier = createLaunchVerifier(await parseVerificationKeys(process.env.LAUNCH_VERIFY_KEYS ?? ''));
const app = Fastify({ logger: false });

app.post('/verify', async (request, reply) => {
  const header = request.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : header;
  const result = await verifier.verify(token);
  if (!result.ok) return reply.code(401).send({ error: result.failure });
  return { ok: true, launch: result.claims.sub };
});

process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
await app.listen({ host: '127.0.0.1', port: Number(process.env.BARE_PORT ?? 0) });
