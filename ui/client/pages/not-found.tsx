import { Link } from '../router.js';
import type { PageProps } from '../routes.js';

export default function NotFoundPage(_props: PageProps) {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page here. Go to the <Link href="/ui/queue">queue</Link>.
      </p>
    </section>
  );
}
