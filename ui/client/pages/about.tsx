/** Who is signed in and where the API reference is: the simplest page, an example of one. */
import { useSession } from '../session.js';
import type { PageProps } from '../routes.js';

export default function AboutPage(_props: PageProps) {
  const session = useSession();
  return (
    <section>
      <h1>About</h1>
      <dl class="fields">
        <dt>Signed in as</dt>
        <dd>{session.name}</dd>
        <dt>Kind</dt>
        <dd>{session.kind}</dd>
        {session.account !== null && (
          <>
            <dt>Account</dt>
            <dd>{session.account}</dd>
            <dt>User</dt>
            <dd>{session.user ?? '—'}</dd>
          </>
        )}
      </dl>
      <p>
        The API this console calls is described in the <a href="/docs">API reference</a> (
        <a href="/openapi.json">OpenAPI document</a>).
      </p>
    </section>
  );
}
