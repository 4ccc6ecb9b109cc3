import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter, useLocation } from 'react-router';
import { describe, expect, it, vi } from 'vitest';
import type { Me, PublicConfig } from '@gha-slurm/core/api/types';
import { Gate } from '../app.tsx';
import { SessionProvider, TOKEN_STORAGE_KEY } from '../auth/session.tsx';
import { config, fakeFetch, json, me } from '../test/fixtures.ts';
import { navigation } from './github-account.tsx';

const TOKEN = 'alice-token-0123456789';
const linked: Me['github'] = { enabled: true, account: { login: 'alice-gh', id: 70001, linkedAt: '2026-05-01T09:00:00.000Z' } };

function Where() {
  const location = useLocation();
  return <output data-testid="location">{`${location.pathname}${location.search}`}</output>;
}

function renderPage(
  routes: Parameters<typeof fakeFetch>[0],
  options: { path?: string; publicConfig?: PublicConfig } = {},
) {
  sessionStorage.setItem(TOKEN_STORAGE_KEY, TOKEN);
  const api = fakeFetch({
    'POST /api/session': () => json(200, { username: 'alice', admin: false, expiresAt: '2026-05-01T18:00:00.000Z' }),
    'GET /repositories/alice': () => json(200, { username: 'alice', repositories: [] }),
    ...routes,
  });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queryClient}>
      <MemoryRouter initialEntries={[options.path ?? '/repos']}>
        <SessionProvider config={options.publicConfig ?? config} fetch={api.fetch}>
          <Gate />
          <Where />
        </SessionProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return { ...api, user: userEvent.setup() };
}

const panel = async () => within(await screen.findByRole('region', { name: 'GitHub account' }));

describe('the GitHub account panel', () => {
  it('offers to link when no account is linked, and leaves for GitHub once the session cookie is set', async () => {
    const go = vi.spyOn(navigation, 'go').mockImplementation(() => {});
    let sessions = 0;
    const { user, calls } = renderPage({
      'GET /api/me': () => json(200, me()),
      // The first attempt at the session cookie fails (a blip): the link asks again before leaving.
      'POST /api/session': () =>
        ++sessions === 1
          ? json(503, { statusCode: 503, code: 'STORE_UNAVAILABLE', error: 'Service Unavailable', message: 'Redis is down' })
          : json(200, { username: 'alice', admin: false, expiresAt: '2026-05-01T18:00:00.000Z' }),
    });
    const region = await panel();
    expect(region.getByText(/No GitHub account is linked to/)).toHaveTextContent(
      'No GitHub account is linked to alice. You can connect a repository only if your GitHub account is an admin of it, so link it first.',
    );
    const link = region.getByRole('link', { name: 'Link your GitHub account' });
    expect(link).toHaveAttribute('href', '/api/github/link?returnTo=%2Frepos');
    await user.click(link);
    await vi.waitFor(() => expect(go).toHaveBeenCalledWith('/api/github/link?returnTo=%2Frepos'));
    expect(calls.filter((call) => call.method === 'POST' && call.path === '/api/session')).toHaveLength(2);
  });

  it('shows the linked account, and unlinks it after a confirmation', async () => {
    let account: Me['github'] = linked;
    const { user, calls } = renderPage({
      'GET /api/me': () => json(200, me({ github: account })),
      'DELETE /api/me/github': () => {
        account = { enabled: true, account: null };
        return json(200, { ...account, unlinked: { login: 'alice-gh', revokedAtGitHub: true } });
      },
    });
    const region = await panel();
    expect(region.getByText(/Linked to GitHub account/)).toHaveTextContent('Linked to GitHub account alice-gh (opens GitHub in a new tab). You can connect the repositories it is an admin of.');
    expect(region.getByRole('link', { name: /alice-gh/ })).toHaveAttribute('href', 'https://github.com/alice-gh');
    expect(region.getByRole('link', { name: 'Link another GitHub account' })).toBeInTheDocument();

    await user.click(region.getByRole('button', { name: 'Unlink' }));
    const confirm = region.getByRole('group', { name: 'Confirm unlinking alice-gh' });
    expect(region.getByRole('button', { name: 'Yes, unlink' })).toHaveFocus();
    await user.click(within(confirm).getByRole('button', { name: 'Yes, unlink' }));
    expect(await region.findByText(/No GitHub account is linked to/)).toBeInTheDocument();
    expect(calls.some((call) => call.method === 'DELETE' && call.path === '/api/me/github')).toBe(true);
    expect(region.getByRole('status')).toHaveTextContent("GitHub account alice-gh unlinked. GitHub has revoked this server's access to it.");
  });

  it('after unlinking, says where to revoke the access on GitHub when GitHub could not be told', async () => {
    let account: Me['github'] = linked;
    const { user } = renderPage({
      'GET /api/me': () => json(200, me({ github: account })),
      'DELETE /api/me/github': () => {
        account = { enabled: true, account: null };
        return json(200, { ...account, unlinked: { login: 'alice-gh', revokedAtGitHub: false } });
      },
    });
    const region = await panel();
    await user.click(region.getByRole('button', { name: 'Unlink' }));
    await user.click(region.getByRole('button', { name: 'Yes, unlink' }));
    expect(await region.findByRole('alert')).toHaveTextContent(
      "GitHub account alice-gh unlinked here, but GitHub could not be told to revoke this server's access. Revoke it yourself on GitHub: https://github.com/settings/apps/authorizations.",
    );
  });

  it.each([
    ['linked', 'alice-gh', 'status', 'Your GitHub account alice-gh is linked. You can now connect the repositories it is an admin of.'],
    ['taken', 'alice-gh', 'alert', 'The GitHub account alice-gh is already linked to another cluster account. Unlink it there first, or link a different GitHub account.'],
    ['denied', null, 'alert', 'Linking was cancelled on GitHub; nothing changed.'],
    ['expired', null, 'alert', 'That linking attempt expired, was already used, or was started in another browser'],
  ] as const)('says how linking ended (%s), once: the address forgets it', async (outcome, login, role, text) => {
    renderPage(
      { 'GET /api/me': () => json(200, me({ github: outcome === 'linked' ? linked : { enabled: true, account: null } })) },
      { path: `/repos?github=${outcome}${login ? `&login=${login}` : ''}` },
    );
    const region = await panel();
    expect(region.getByRole(role)).toHaveTextContent(text);
    await vi.waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent(/^\/repos$/));
  });

  it('says that only admins connect repositories when linking is off', async () => {
    renderPage({ 'GET /api/me': () => json(200, me({ github: { enabled: false, account: null } })) });
    const region = await panel();
    expect(region.getByText(/GitHub account linking is not set up/)).toHaveTextContent(
      'GitHub account linking is not set up on this server, so only admins can connect repositories. Ask an admin to connect yours.',
    );
    expect(region.queryByRole('link', { name: /Link/ })).not.toBeInTheDocument();
  });

  it('turns a refusal to add a repository into an offer to link', async () => {
    vi.spyOn(navigation, 'go').mockImplementation(() => {});
    const { user } = renderPage({
      'GET /api/me': () => json(200, me()),
      'POST /repositories/alice': () =>
        json(403, {
          statusCode: 403,
          code: 'GITHUB_NOT_LINKED',
          error: 'Forbidden',
          message:
            'octo-org/app was not added: no GitHub account is linked to your cluster account alice. Link your GitHub account (one that is an admin of octo-org/app), then add it again; nothing was changed.',
        }),
    });
    await screen.findByText(/No repositories yet/);
    await user.type(screen.getByRole('textbox', { name: 'Repository' }), 'octo-org/app{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Link your GitHub account first. octo-org/app was not added: no GitHub account is linked to your cluster account alice.');
    const offer = within(alert).getByRole('link', { name: 'Link your GitHub account' });
    expect(offer).toHaveAttribute('href', '/api/github/link?returnTo=%2Frepos');
    expect(screen.getByRole('textbox', { name: 'Repository' })).toHaveValue('octo-org/app');
  });
});
