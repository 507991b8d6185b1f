import { Home } from '@/components/home';
import { serverContext } from '@/lib/server/context';

// Reads the running server's settings (how long finished files are kept): never prerendered.
export const dynamic = 'force-dynamic';

export default function HomePage() {
  const { maxAgeMs } = serverContext().config.retention;
  return (
    <>
      <h1>Download a file</h1>
      <p className="intro">
        Paste the address of a file. The server downloads it and you watch it happen live — here, in any
        other tab, or on another device through the job&rsquo;s link. When it is done you get the file and
        its SHA-256.
      </p>
      <Home retentionMs={maxAgeMs > 0 ? maxAgeMs : null} />
    </>
  );
}
