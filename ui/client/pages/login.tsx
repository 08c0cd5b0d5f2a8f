/**
 * Sign-in: a token (a user's or an admin's) posted in a JSON body to /ui/session, which sets the session cookie. The
 * token is never put in a URL, and the page keeps no copy of it once sent.
 */
import { useState } from 'preact/hooks';
import { signIn, type Session } from '../api.js';

export function LoginPage({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const field = form.elements.namedItem('token') as HTMLInputElement;
    setBusy(true);
    setError(undefined);
    try {
      const session = await signIn(field.value);
      field.value = '';
      onSignedIn(session);
    } catch (failure) {
      setError((failure as Error).message);
      field.focus();
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="login">
      <h1>SCNS-Conductor</h1>
      <form method="post" action="/ui/session" onSubmit={(event) => void submit(event)}>
        <label for="token">Token</label>
        <p class="hint" id="token-hint">
          A user or admin token (<code>conductor tokens create</code>, or the admin token the host printed).
        </p>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          required
          aria-describedby="token-hint"
          aria-invalid={error ? 'true' : undefined}
          autoFocus
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
