import { useNavigate } from 'react-router';
import { useTitle } from '../layout/useTitle';
import { SignInForm } from './SignInForm';

/** `/signin`: one sign-in for every role; each lands on its own pages. */
export function SignInPage() {
  useTitle('Sign in');
  const navigate = useNavigate();
  return <SignInForm onSignedIn={(r) => void navigate(r.user.home)} />;
}
