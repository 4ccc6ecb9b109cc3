/**
 * The one JSON error shape every service answers with. It is Fastify's own (`statusCode`,
 * `code`, `error`, `message`), so our errors and the framework's (413, 415, 404) read alike.
 */
import { STATUS_CODES } from 'node:http';

export interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
}

/** An error the edge turns into an HTTP answer as it is: the message is safe to show. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  toBody(): ErrorBody {
    return errorBody(this.statusCode, this.code, this.message);
  }
}

export function errorBody(statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/**
 * Answers every error in the shape above. Client errors keep their message (Fastify's own
 * say what was wrong); anything else is logged and answered with a generic message, because
 * an unexpected error's text may hold what should not leave the service.
 */
export function installErrorHandler(app: import('fastify').FastifyInstance): void {
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).headers(error.headers).send(error.toBody());
    }
    const statusCode = error.statusCode ?? 500;
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const type = request.headers['content-type'] ?? '(none)';
      return reply.code(415).send(errorBody(415, error.code, `Content-Type ${type} is not accepted: send application/json`));
    }
    if (statusCode < 500) {
      return reply.code(statusCode).send(errorBody(statusCode, error.code ?? 'BAD_REQUEST', error.message));
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(statusCode).send(errorBody(statusCode, 'INTERNAL', 'internal error; see the service log'));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
