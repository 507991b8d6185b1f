import Link from 'next/link';

export default function NotFound() {
  return (
    <>
      <h1>Not found</h1>
      <p className="intro">
        There is no download at this address. Check the link, or start a new download.
      </p>
      <p>
        <Link href="/">Download a file</Link>
      </p>
    </>
  );
}
