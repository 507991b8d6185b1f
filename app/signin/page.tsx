import type { Metadata } from 'next';
import { SignInForm } from '@/components/sign-in-form';
import { safeNextPath } from '@/lib/domain/sign-in-input';

export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Sign in', robots: { index: false, follow: false } };

interface SignInPageProps {
  searchParams: Promise<{ next?: string | string[] }>;
}

/** Where people land when the server asks for its access token. */
export default async function SignInPage({ searchParams }: SignInPageProps) {
  const { next } = await searchParams;
  return (
    <>
      <h1>Sign in</h1>
      <p>This server asks for its access token. Whoever runs it can give it to you.</p>
      <SignInForm next={safeNextPath(next)} />
    </>
  );
}
