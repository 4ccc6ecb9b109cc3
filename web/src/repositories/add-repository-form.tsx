/**
 * Adding a repository by URL or `owner/name`, checked as it is typed with the same parser
 * repo-api uses (`parseRepositoryName`). What was typed survives every failure: it stays in
 * the field, and in sessionStorage, so even a lost sign-in or a reload does not lose it.
 */
import { useEffect, useId, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { RepositoryEntry } from '@gha-slurm/core/api/types';
import { GitHubComLinkElsewhere, InvalidRepositoryName, parseRepositoryName, type RepositoryName } from '@gha-slurm/core/domain/repository-name';
import { describeListChangeError, type ListChangeProblem } from './list-errors.ts';

export type NameCheck =
  | { kind: 'empty' }
  | { kind: 'invalid'; message: string }
  | { kind: 'duplicate'; name: RepositoryName; message: string }
  | { kind: 'valid'; name: RepositoryName };

const EXAMPLE = 'octo-org/hpc-app or https://github.com/octo-org/hpc-app';

export function checkRepositoryInput(input: string, existing: readonly RepositoryEntry[], githubUrl: string): NameCheck {
  if (!input.trim()) return { kind: 'empty' };
  let name: RepositoryName;
  try {
    name = parseRepositoryName(input, githubUrl);
  } catch (error) {
    // It is a GitHub repository, only not on this installation's GitHub: say which host it wants.
    if (error instanceof GitHubComLinkElsewhere) {
      const there = error.ownerAndName ? ` If the repository is on ${error.expectedHost}, enter ${error.ownerAndName}.` : '';
      return { kind: 'invalid', message: `Recognised as a github.com link, but this installation expects repositories on ${error.expectedHost}, not github.com.${there}` };
    }
    if (error instanceof InvalidRepositoryName) {
      return { kind: 'invalid', message: `Not a GitHub repository: ${error.why}. Use owner/name or its URL, e.g. ${EXAMPLE.replace('https://github.com', githubUrl.replace(/\/+$/, ''))}.` };
    }
    throw error;
  }
  const duplicate = existing.some((entry) => {
    try {
      return parseRepositoryName(entry.url, githubUrl).key === name.key;
    } catch {
      return false;
    }
  });
  if (duplicate) return { kind: 'duplicate', name, message: `${name.fullName} is already on this list.` };
  return { kind: 'valid', name };
}

function readDraft(key: string | undefined): string {
  if (!key) return '';
  try {
    return sessionStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

function writeDraft(key: string | undefined, value: string) {
  if (!key) return;
  try {
    if (value) sessionStorage.setItem(key, value);
    else sessionStorage.removeItem(key);
  } catch {
    // Without storage the draft lives as long as the page.
  }
}

export interface AddRepositoryFormProps {
  existing: readonly RepositoryEntry[];
  githubUrl: string;
  /** Sends the new list; throws `ApiError` or `NetworkError` on failure. */
  onAdd: (name: RepositoryName) => Promise<void>;
  signedInAs: string;
  listOwner: string;
  /** sessionStorage key that keeps an unsent entry across reloads and sign-ins. */
  draftKey?: string;
  disabled?: boolean;
  /** Shows what a refusal offers besides retrying (linking a GitHub account). */
  renderAction?: (action: NonNullable<ListChangeProblem['action']>) => ReactNode;
}

export function AddRepositoryForm({ existing, githubUrl, onAdd, signedInAs, listOwner, draftKey, disabled, renderAction }: AddRepositoryFormProps) {
  const [value, setValue] = useState(() => readDraft(draftKey));
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ListChangeProblem | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  // What was in the field when the add failed: "Will add" next to a refusal of that very entry
  // would contradict it, so the hint waits until the entry is edited.
  const [failedInput, setFailedInput] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const hintId = useId();
  const checkId = useId();
  const problemId = useId();

  const check = useMemo(() => checkRepositoryInput(value, existing, githubUrl), [value, existing, githubUrl]);
  const refusedAsTyped = problem !== null && failedInput === value;
  const showCheck =
    check.kind === 'invalid' || check.kind === 'duplicate' ? touched || /[/\s:]/.test(value.trim()) : check.kind === 'valid' && !refusedAsTyped;

  useEffect(() => writeDraft(draftKey, value), [draftKey, value]);

  async function submit(event?: FormEvent) {
    event?.preventDefault();
    setTouched(true);
    setAdded(null);
    if (check.kind !== 'valid') {
      if (check.kind === 'empty') setProblem({ title: 'Nothing to add', message: `Enter a repository: ${EXAMPLE}.`, retryable: false });
      else setProblem(null);
      inputRef.current?.focus();
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      await onAdd(check.name);
      setAdded(check.name.fullName);
      setValue('');
      setTouched(false);
      inputRef.current?.focus();
    } catch (error) {
      setFailedInput(value);
      setProblem(describeListChangeError(error, { signedInAs, listOwner }));
    } finally {
      setBusy(false);
    }
  }

  const invalid = showCheck && (check.kind === 'invalid' || check.kind === 'duplicate');
  const describedBy = [hintId, showCheck ? checkId : null, problem ? problemId : null].filter(Boolean).join(' ');

  return (
    <form className="add-repository" onSubmit={submit} aria-label="Add a repository" noValidate>
      <div className="field">
        <label htmlFor={inputId}>Repository</label>
        <div className="inline">
          <input
            id={inputId}
            ref={inputRef}
            name="repository"
            type="text"
            inputMode="url"
            autoComplete="off"
            autoCapitalize="off"
            spellCheck={false}
            placeholder="owner/name"
            value={value}
            onChange={(event) => {
              setValue(event.target.value);
              setAdded(null);
              if (problem && !problem.retryable) setProblem(null);
            }}
            onBlur={() => setTouched(true)}
            aria-invalid={invalid || undefined}
            aria-describedby={describedBy}
            disabled={disabled}
          />
          <button type="submit" className="primary" disabled={busy || disabled}>
            {busy ? 'Adding…' : 'Add'}
          </button>
        </div>
        <p id={hintId} className="hint">
          A GitHub repository URL or owner/name, e.g. {EXAMPLE.replace('https://github.com', githubUrl.replace(/\/+$/, ''))}.
        </p>
        <p id={checkId} className={`check ${invalid ? 'check-bad' : 'check-ok'}`} aria-live="polite">
          {showCheck && check.kind === 'valid' && <>Will add {check.name.fullName}.</>}
          {showCheck && (check.kind === 'invalid' || check.kind === 'duplicate') && check.message}
        </p>
      </div>
      {problem && (
        <div id={problemId} className="error-box" role="alert">
          <p>
            <strong>{problem.title}.</strong> {problem.message}
          </p>
          {problem.retryable && (
            <button type="button" onClick={() => void submit()} disabled={busy}>
              Try again
            </button>
          )}
          {problem.action && renderAction?.(problem.action)}
        </div>
      )}
      {added && (
        <p className="success" role="status">
          Added {added}.
        </p>
      )}
    </form>
  );
}
