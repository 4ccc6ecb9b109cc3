import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import type { PublicConfig } from '@gha-slurm/core/api/types';
import { Gate } from '../app.tsx';
import { config, fakeFetch, json } from '../test/fixtures.ts';
import { SessionProvider, TOKEN_STORAGE_KEY } from './session.tsx';

const GOOD = 'alice-token-0123456789';
const unauthorized = () =>
  json(401, { statusCode: 401, code: 'INVALID_TOKEN', error: 'Unauthorized', message: 'sign in again: not a JWT, nor a known API token' });

function api() {
  return fakeFetch({
    'GET /api/me': (init) =>
      (init?.headers as Record<string, string>).authorization === `Bearer ${GOOD}`
        ? json(200, { username: 'alice', admin: false, via: 'token' })
        : unauthorized(),
    'POST /api/session': () => json(200, { username: 'alice', admin: false, expiresAt: '2026-05-01T18:00:00.000Z' }),
    'GET /repositories/alice': () => json(200, { username: 'alice', repositories: [] }),
  });
}

function renderApp(fetchImpl: typeof fetch, publicConfig: PublicConfig = config) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queryClient}>
      <MemoryRouter initialEntries={['/repos']}>
        <SessionProvider config={publicConfig} fetch={fetchImpl}>
          <Gate />
        </SessionProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe('token sign-in', () => {
  it('refuses a wrong token with the reason, keeps it in the field, and stores nothing', async () => {
    const { fetch, calls } = api();
    renderApp(fetch);
    const user = userEvent.setup();
    const field = await screen.findByLabelText('API token', { selector: 'input' });
    await user.type(field, 'wrong-token');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'That token was not accepted: not a JWT, nor a known API token. Check it and try again.',
    );
    expect(field).toHaveValue('wrong-token');
    expect(sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
    expect(calls.filter((call) => call.path === '/api/session')).toHaveLength(0);
  });

  it('signs in with a good token: sends it as a bearer token, keeps it for the tab, and gets the session cookie', async () => {
    const { fetch, calls } = api();
    renderApp(fetch);
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('API token', { selector: 'input' }), `  ${GOOD} `);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('heading', { name: 'My repositories' })).toBeInTheDocument();
    expect(screen.getByText('Signed in as')).toHaveTextContent('Signed in as alice');
    expect(await screen.findByText(/No repositories yet/)).toBeInTheDocument();
    expect(sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBe(GOOD);
    const list = calls.find((call) => call.path === '/repositories/alice');
    expect((list?.init?.headers as Record<string, string>).authorization).toBe(`Bearer ${GOOD}`);
    expect(calls.some((call) => call.method === 'POST' && call.path === '/api/session')).toBe(true);
    // Admin pages are not offered to a user.
    expect(screen.queryByRole('link', { name: 'Dead letters' })).not.toBeInTheDocument();
  });

  it('stays signed in after a reload, and signs out on request', async () => {
    sessionStorage.setItem(TOKEN_STORAGE_KEY, GOOD);
    const routes = fakeFetch({
      'GET /api/me': () => json(200, { username: 'ops', admin: true, via: 'token' }),
      'POST /api/session': () => json(200, { username: 'ops', admin: true, expiresAt: '2026-05-01T18:00:00.000Z' }),
      'DELETE /api/session': () => new Response(null, { status: 204 }),
      'GET /repositories/ops': () => json(200, { username: 'ops', repositories: [] }),
    });
    renderApp(routes.fetch);
    expect(await screen.findByRole('heading', { name: 'My repositories' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Dead letters' })).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('heading', { name: 'Sign in to gha-slurm' })).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('You are signed out.');
    expect(sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
    expect(routes.calls.some((call) => call.method === 'DELETE' && call.path === '/api/session')).toBe(true);
  });

  it('says so when repo-api cannot be reached, keeping the token typed', async () => {
    const offline = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    renderApp(offline);
    const user = userEvent.setup();
    const field = await screen.findByLabelText('API token', { selector: 'input' });
    await user.type(field, GOOD);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('repo-api could not be reached');
    expect(field).toHaveValue(GOOD);
  });

  it('offers no token form when static tokens are off', async () => {
    renderApp(api().fetch, { ...config, staticTokens: false, oidc: null });
    expect(await screen.findByRole('alert')).toHaveTextContent('repo-api offers no way to sign in');
    expect(screen.queryByLabelText('API token', { selector: 'input' })).not.toBeInTheDocument();
  });
});
