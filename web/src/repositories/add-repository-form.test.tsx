import { cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { RepositoryEntry } from '@gha-slurm/core/api/types';
import type { RepositoryName } from '@gha-slurm/core/domain/repository-name';
import { ApiError, NetworkError } from '../api/client.ts';
import { AddRepositoryForm } from './add-repository-form.tsx';

const existing: RepositoryEntry[] = [{ url: 'https://github.com/octo-org/existing', installed: true }];

type OnAdd = (name: RepositoryName) => Promise<void>;

function renderForm(onAdd = vi.fn<OnAdd>(async () => {}), props: Partial<Parameters<typeof AddRepositoryForm>[0]> = {}) {
  render(
    <AddRepositoryForm
      existing={existing}
      githubUrl="https://github.com"
      onAdd={onAdd}
      signedInAs="alice"
      listOwner="alice"
      draftKey="draft-test"
      {...props}
    />,
  );
  return { onAdd, input: screen.getByRole('textbox', { name: 'Repository' }), user: userEvent.setup() };
}

describe('the add-repository form', () => {
  it('checks the name as it is typed: an invalid owner, then a valid URL', async () => {
    const { input, user } = renderForm();
    await user.type(input, 'bad_owner!/x');
    expect(screen.getByText(/Not a GitHub repository: "bad_owner!" is not a valid owner name/)).toBeInTheDocument();
    expect(input).toHaveAttribute('aria-invalid', 'true');

    await user.clear(input);
    await user.type(input, 'https://github.com/Octo-Org/HPC-App.git');
    expect(screen.getByText('Will add Octo-Org/HPC-App.')).toBeInTheDocument();
    expect(input).not.toHaveAttribute('aria-invalid');
  });

  it('explains what a wrong host or a missing name is, and what to type instead', async () => {
    const { input, user } = renderForm();
    await user.type(input, 'https://gitlab.com/octo/app');
    expect(screen.getByText(/the host must be github\.com/)).toBeInTheDocument();
    await user.clear(input);
    await user.type(input, 'octo-org');
    await user.tab();
    expect(screen.getByText(/expected owner\/name\. Use owner\/name or its URL, e\.g\. octo-org\/hpc-app/)).toBeInTheDocument();
  });

  it('recognises a github.com link when this installation uses another GitHub, and names the host it expects', async () => {
    const { input, user, onAdd } = renderForm(undefined, { githubUrl: 'https://github.example.edu' });
    await user.type(input, 'https://github.com/octo-org/hpc-app');
    const said = screen.getByText(/github\.com link/);
    expect(said).toHaveTextContent(
      'Recognised as a github.com link, but this installation expects repositories on github.example.edu, not github.com. If the repository is on github.example.edu, enter octo-org/hpc-app.',
    );
    expect(said).not.toHaveTextContent(/Not a GitHub repository/);
    expect(input).toHaveAttribute('aria-invalid', 'true');
    await user.click(screen.getByRole('button', { name: 'Add' }));
    expect(onAdd).not.toHaveBeenCalled();

    // Its own host's links and plain owner/name are accepted.
    await user.clear(input);
    await user.type(input, 'https://github.example.edu/octo-org/hpc-app');
    expect(screen.getByText('Will add octo-org/hpc-app.')).toBeInTheDocument();
  });

    it('does not send a repository already on the list, whatever its spelling', async () => {
    const { input, user, onAdd } = renderForm();
    await user.type(input, 'OCTO-ORG/Existing');
    expect(screen.getByText('OCTO-ORG/Existing is already on this list.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Add' }));
    expect(onAdd).not.toHaveBeenCalled();
  });

  it('asks for a name when submitted empty', async () => {
    const { user, onAdd } = renderForm();
    await user.click(screen.getByRole('button', { name: 'Add' }));
    expect(screen.getByRole('alert')).toHaveTextContent('Nothing to add. Enter a repository');
    expect(onAdd).not.toHaveBeenCalled();
  });

  it('sends the canonical name, then clears the field and says so', async () => {
    const { input, user, onAdd } = renderForm();
    await user.type(input, 'octo-org/hpc-app{Enter}');
    expect(onAdd).toHaveBeenCalledWith(expect.objectContaining({ fullName: 'octo-org/hpc-app', url: 'https://github.com/octo-org/hpc-app' }));
    expect(await screen.findByText('Added octo-org/hpc-app.')).toBeInTheDocument();
    expect(input).toHaveValue('');
    expect(sessionStorage.getItem('draft-test')).toBeNull();
  });

  it('on 409 names the repository, says it belongs to another account, and keeps what was typed', async () => {
    const onAdd = vi.fn<OnAdd>(async () => {
      throw new ApiError(
        409,
        'REPOSITORY_TAKEN',
        'octo-org/taken is already connected to another cluster account; nothing was changed. Remove it from your list, or ask an admin if it should run under yours.',
      );
    });
    const { input, user } = renderForm(onAdd);
    await user.type(input, 'octo-org/taken{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('This repository belongs to another cluster account.');
    expect(alert).toHaveTextContent('octo-org/taken is already connected to another cluster account; nothing was changed.');
    expect(alert).toHaveTextContent('ask an admin');
    expect(screen.queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
    expect(input).toHaveValue('octo-org/taken');
  });

  it('hides "Will add" once the add is refused, and brings it back when the entry is edited', async () => {
    const onAdd = vi.fn<OnAdd>(async () => {
      throw new ApiError(422, 'REPOSITORY_NOT_FOUND', 'octo-org/tpyo was not added: octo-org/tpyo does not exist on GitHub. Check the name; nothing was changed.');
    });
    const { input, user } = renderForm(onAdd);
    await user.type(input, 'octo-org/tpyo');
    expect(screen.getByText('Will add octo-org/tpyo.')).toBeInTheDocument();
    await user.keyboard('{Enter}');
    await screen.findByRole('alert');
    expect(screen.queryByText(/Will add/)).not.toBeInTheDocument();
    expect(input).toHaveValue('octo-org/tpyo');

    await user.type(input, 'e');
    expect(screen.getByText('Will add octo-org/tpyoe.')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

    it("on 400 shows repo-api's reason and how to fix the entry", async () => {
    const onAdd = vi.fn<OnAdd>(async () => {
      throw new ApiError(400, 'INVALID_REPOSITORY', 'repositories[1] "octo-org/x": "x" is not a valid repository name');
    });
    const { input, user } = renderForm(onAdd);
    await user.type(input, 'octo-org/x{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Not a repository repo-api accepts.');
    expect(alert).toHaveTextContent('"x" is not a valid repository name. Correct the name');
    expect(input).toHaveValue('octo-org/x');
  });

  it("on 403 for someone else's list says who is signed in and what to do", async () => {
    const onAdd = vi.fn<OnAdd>(async () => {
      throw new ApiError(403, 'NOT_YOUR_LIST', 'you are signed in as alice and may change only your own list');
    });
    const { input, user } = renderForm(onAdd, { listOwner: 'bob' });
    await user.type(input, 'octo-org/app{Enter}');
    expect(await screen.findByRole('alert')).toHaveTextContent(
      "You are signed in as alice and may change only your own list (this is bob's). Sign in as bob, or ask an admin.",
    );
  });

  it('on 403 from the ownership rule says what is missing and offers to link (another) GitHub account', async () => {
    const refusals = [
      {
        code: 'NOT_REPOSITORY_ADMIN',
        message: 'octo-org/app was not added: your GitHub account alice-gh is not an admin of octo-org/app (it has write access). Only an admin of a repository may connect it to a cluster account: ask one of its admins to connect it, or an admin here. Nothing was changed.',
        title: 'Your GitHub account is not an admin of it.',
        offer: 'Link another GitHub account',
      },
      {
        code: 'GITHUB_LINK_EXPIRED',
        message: 'octo-org/app was not added: the authorization of your GitHub account alice-gh has expired and GitHub would not renew it (bad_refresh_token). Link your GitHub account again, then add it; nothing was changed.',
        title: 'Your GitHub authorization has run out.',
        offer: 'Link your GitHub account again',
      },
      {
        code: 'GITHUB_LINKING_OFF',
        message: 'octo-org/app was not added: only admins can connect repositories here, because GitHub account linking is not configured (GITHUB_CLIENT_ID is not set). Ask an admin to connect it for you; nothing was changed.',
        title: 'Only admins can connect repositories here.',
        offer: null,
      },
    ];
    for (const refusal of refusals) {
      const onAdd = vi.fn<OnAdd>(async () => {
        throw new ApiError(403, refusal.code, refusal.message);
      });
      const { input, user } = renderForm(onAdd, { renderAction: (action) => <a href="/api/github/link">{action.label}</a> });
      await user.type(input, 'octo-org/app{Enter}');
      const alert = await screen.findByRole('alert');
      expect(alert).toHaveTextContent(`${refusal.title} ${refusal.message}`);
      if (refusal.offer) expect(within(alert).getByRole('link', { name: refusal.offer })).toBeInTheDocument();
      else expect(within(alert).queryByRole('link')).not.toBeInTheDocument();
      expect(within(alert).queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
      expect(input).toHaveValue('octo-org/app');
      cleanup();
      sessionStorage.clear();
    }
  });

  it('on 422 for a repository that does not exist says so, offers no link and no retry, and keeps the entry', async () => {
    const message = 'octo-org/tpyo was not added: octo-org/tpyo does not exist on GitHub. Check the name; nothing was changed.';
    const onAdd = vi.fn<OnAdd>(async () => {
      throw new ApiError(422, 'REPOSITORY_NOT_FOUND', message);
    });
    const { input, user } = renderForm(onAdd, { renderAction: (action) => <a href="/api/github/link">{action.label}</a> });
    await user.type(input, 'octo-org/tpyo{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(`No such repository on GitHub. ${message}`);
    expect(alert).not.toHaveTextContent(/Correct the name/);
    expect(alert).not.toHaveTextContent(/not an admin/);
    expect(within(alert).queryByRole('link')).not.toBeInTheDocument();
    expect(within(alert).queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
    expect(input).toHaveValue('octo-org/tpyo');
  });

  it('on a lost connection keeps the entry, says nothing changed, and retries on request', async () => {
    const onAdd = vi
      .fn<OnAdd>()
      .mockRejectedValueOnce(new NetworkError())
      .mockResolvedValueOnce(undefined);
    const { input, user } = renderForm(onAdd);
    await user.type(input, 'octo-org/hpc-app{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Connection lost. repo-api could not be reached, so nothing was changed.');
    expect(alert).toHaveTextContent('what you typed is still here');
    expect(input).toHaveValue('octo-org/hpc-app');
    expect(sessionStorage.getItem('draft-test')).toBe('octo-org/hpc-app');

    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('Added octo-org/hpc-app.')).toBeInTheDocument();
    expect(onAdd).toHaveBeenCalledTimes(2);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('brings back an entry that was not sent before a reload', () => {
    sessionStorage.setItem('draft-test', 'octo-org/unsent');
    const { input } = renderForm();
    expect(input).toHaveValue('octo-org/unsent');
  });
});
